//! Hand-written readers for the few ROOT classes needed to reach TTree data.
//!
//! No `TStreamerInfo` is parsed. Every object read here carries a byte count
//! (the `0x40000000`-flagged `u32` before its version), which is used to skip
//! members that are not needed and to stay robust across class versions.

use std::collections::HashMap;

use super::cursor::{Cursor, PResult};

const K_BYTE_COUNT_MASK: u32 = 0x4000_0000;
const K_NEW_CLASS_TAG: u32 = 0xFFFF_FFFF;
const K_CLASS_MASK: u32 = 0x8000_0000;
const K_MAP_OFFSET: usize = 2;
const K_IS_REFERENCED: u32 = 1 << 4;
const MAX_DEPTH: usize = 64;

/// A `TKey` header.
#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub nbytes: i32,
    pub objlen: i32,
    pub keylen: i16,
    pub cycle: i16,
    pub seek_key: i64,
    pub class_name: String,
    pub name: String,
    pub title: String,
}

/// Read a `TKey` header (64-bit seeks when the key version is above 1000).
pub(crate) fn read_key(c: &mut Cursor) -> PResult<Key> {
    let nbytes = c.i32()?;
    let version = c.i16()?;
    let objlen = c.i32()?;
    let _datime = c.u32()?;
    let keylen = c.i16()?;
    let cycle = c.i16()?;
    let (seek_key, _seek_pdir) = if version > 1000 {
        (c.i64()?, c.i64()?)
    } else {
        (i64::from(c.i32()?), i64::from(c.i32()?))
    };
    let class_name = c.tstring()?;
    let name = c.tstring()?;
    let title = c.tstring()?;
    Ok(Key {
        nbytes,
        objlen,
        keylen,
        cycle,
        seek_key,
        class_name,
        name,
        title,
    })
}

/// The part of a `TDirectory` record needed to find its keys.
#[derive(Clone, Debug)]
pub(crate) struct DirRecord {
    pub nbytes_keys: i32,
    pub seek_keys: i64,
}

/// Read a `TDirectory` record (64-bit seeks when its version is above 1000).
pub(crate) fn read_dir_record(c: &mut Cursor) -> PResult<DirRecord> {
    let version = c.i16()?;
    let _ctime = c.u32()?;
    let _mtime = c.u32()?;
    let nbytes_keys = c.i32()?;
    let _nbytes_name = c.i32()?;
    let seek_keys = if version > 1000 {
        let _seek_dir = c.i64()?;
        let _seek_parent = c.i64()?;
        c.i64()?
    } else {
        let _seek_dir = c.i32()?;
        let _seek_parent = c.i32()?;
        i64::from(c.i32()?)
    };
    Ok(DirRecord {
        nbytes_keys,
        seek_keys,
    })
}

/// Version header of a streamed object: start position, end (from the byte
/// count, if present) and class version.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub end: Option<usize>,
    pub version: i16,
}

pub(crate) fn read_header(c: &mut Cursor, what: &str) -> PResult<Header> {
    let start = c.pos();
    let raw = c.u32()?;
    if raw & K_BYTE_COUNT_MASK != 0 {
        let count = (raw & !K_BYTE_COUNT_MASK) as usize;
        let end = start + 4 + count;
        if end > c.len() {
            return Err(format!(
                "{what}: byte count {count} at position {start} runs past the end of the {}-byte buffer",
                c.len()
            ));
        }
        let version = c.i16()?;
        Ok(Header {
            end: Some(end),
            version,
        })
    } else {
        c.set_pos(start)?;
        let version = c.i16()?;
        Ok(Header { end: None, version })
    }
}

/// Move to the end of an object given by its byte count, or fail when the
/// object has no byte count (then its size is unknown without streamer info).
fn finish(c: &mut Cursor, h: Header, what: &str) -> PResult<()> {
    match h.end {
        Some(end) => {
            if c.pos() > end {
                return Err(format!(
                    "{what} (version {}) read {} bytes past its byte count",
                    h.version,
                    c.pos() - end
                ));
            }
            c.set_pos(end)
        }
        None => Err(format!(
            "{what} (version {}) has no byte count, so it cannot be skipped",
            h.version
        )),
    }
}

/// `TObject`: version, fUniqueID, fBits, and a 2-byte process id when
/// `kIsReferenced` is set.
pub(crate) fn read_tobject(c: &mut Cursor) -> PResult<()> {
    let h = read_header(c, "TObject")?;
    let _unique_id = c.u32()?;
    let bits = c.u32()?;
    if bits & K_IS_REFERENCED != 0 {
        c.skip(2)?;
    }
    if h.end.is_some() {
        finish(c, h, "TObject")?;
    }
    Ok(())
}

/// `TNamed`: returns (name, title).
pub(crate) fn read_tnamed(c: &mut Cursor) -> PResult<(String, String)> {
    let h = read_header(c, "TNamed")?;
    read_tobject(c)?;
    let name = c.tstring()?;
    let title = c.tstring()?;
    if h.end.is_some() {
        finish(c, h, "TNamed")?;
    }
    Ok((name, title))
}

/// Skip a base class such as `TAttLine`, whose fixed size without byte count
/// is `plain_len` bytes after the version.
fn skip_base(c: &mut Cursor, what: &str, plain_len: usize) -> PResult<()> {
    let h = read_header(c, what)?;
    match h.end {
        Some(_) => finish(c, h, what),
        None => c.skip(plain_len),
    }
}

/// A `TLeaf` (or subclass) as far as this reader needs it.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawLeaf {
    pub class_name: String,
    pub len: i32,
    pub is_unsigned: bool,
    pub has_leaf_count: bool,
    /// `TLeafElement::fType` (a streamer type code), if a TLeafElement.
    pub element_type: Option<i32>,
}

/// `TBranchElement`-specific members.
#[derive(Clone, Debug, Default)]
pub(crate) struct ElementInfo {
    pub class_name: String,
    pub ftype: i32,
    pub streamer_type: i32,
}

/// A `TBranch` (or subclass) as far as this reader needs it.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawBranch {
    pub class_name: String,
    pub name: String,
    pub write_basket: i32,
    pub entries: i64,
    pub branches: Vec<RawBranch>,
    pub leaves: Vec<RawLeaf>,
    /// Number of non-null `TBasket`s stored inside the branch object itself.
    pub embedded_baskets: usize,
    pub basket_bytes: Vec<i32>,
    pub basket_entry: Vec<i64>,
    pub basket_seek: Vec<i64>,
    pub element: Option<ElementInfo>,
}

/// A `TTree` as far as this reader needs it.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawTree {
    pub entries: i64,
    pub branches: Vec<RawBranch>,
}

/// Object pointed to from an object array or pointer member.
#[derive(Debug)]
pub(crate) enum Obj {
    Null,
    Reference,
    Branch(Box<RawBranch>),
    Leaf(RawLeaf),
    /// Any other class (its name, kept for diagnostics).
    Other(#[allow(dead_code)] String),
}

/// State of one object-reading pass: class tags seen so far, keyed by their
/// offset in ROOT's buffer (the key length included).
#[derive(Default)]
pub(crate) struct Context {
    classes: HashMap<usize, String>,
    depth: usize,
}

/// `TBufferFile::ReadObjectAny`: a null pointer, a reference to an object
/// already read, or a (new or referenced) class followed by an object.
pub(crate) fn read_object_any(c: &mut Cursor, ctx: &mut Context) -> PResult<Obj> {
    let beg = c.pos();
    let first = c.u32()?;
    let (tag, end) = if first & K_BYTE_COUNT_MASK == 0 || first == K_NEW_CLASS_TAG {
        (first, None)
    } else {
        let count = (first & !K_BYTE_COUNT_MASK) as usize;
        let end = beg + 4 + count;
        if end > c.len() {
            return Err(format!(
                "object pointer at position {beg}: byte count {count} runs past the end of the {}-byte buffer",
                c.len()
            ));
        }
        (c.u32()?, Some(end))
    };
    if tag & K_CLASS_MASK == 0 {
        // Null or a reference to an object already read.
        if let Some(end) = end {
            c.set_pos(end)?;
        }
        return Ok(if tag == 0 { Obj::Null } else { Obj::Reference });
    }
    let class_name = if tag == K_NEW_CLASS_TAG {
        let tag_pos = c.displacement() - 4;
        let name = c.cstring()?;
        ctx.classes.insert(tag_pos + K_MAP_OFFSET, name.clone());
        name
    } else {
        let r = (tag & !K_CLASS_MASK) as usize;
        ctx.classes
            .get(&r)
            .cloned()
            .ok_or_else(|| format!("object at position {beg} refers to unknown class tag {r}"))?
    };
    if ctx.depth >= MAX_DEPTH {
        return Err(format!("objects nested deeper than {MAX_DEPTH} levels"));
    }
    ctx.depth += 1;
    let result = read_object_body(c, ctx, &class_name);
    ctx.depth -= 1;
    let obj = result?;
    match end {
        Some(end) => {
            if c.pos() > end {
                return Err(format!(
                    "object of class {class_name} at position {beg} overran its byte count"
                ));
            }
            c.set_pos(end)?;
        }
        None => {
            if matches!(obj, Obj::Other(_)) {
                return Err(format!(
                    "object of class {class_name} at position {beg} has no byte count and cannot be skipped"
                ));
            }
        }
    }
    Ok(obj)
}

fn read_object_body(c: &mut Cursor, ctx: &mut Context, class_name: &str) -> PResult<Obj> {
    match class_name {
        "TBranch" | "TBranchElement" | "TBranchObject" | "TBranchRef" => {
            Ok(Obj::Branch(Box::new(read_any_branch(c, ctx, class_name)?)))
        }
        n if n.starts_with("TLeaf") => Ok(Obj::Leaf(read_leaf(c, ctx, n)?)),
        other => Ok(Obj::Other(other.to_string())),
    }
}

/// `TObjArray`: returns its elements.
pub(crate) fn read_tobjarray(c: &mut Cursor, ctx: &mut Context) -> PResult<Vec<Obj>> {
    let h = read_header(c, "TObjArray")?;
    if h.version > 2 {
        read_tobject(c)?;
    }
    if h.version > 1 {
        let _name = c.tstring()?;
    }
    let n = c.i32()?;
    let _lower = c.i32()?;
    if n < 0 || (n as usize).saturating_mul(4) > c.remaining() {
        return Err(format!(
            "TObjArray claims {n} elements but only {} bytes remain",
            c.remaining()
        ));
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        out.push(read_object_any(c, ctx)?);
    }
    if h.end.is_some() {
        finish(c, h, "TObjArray")?;
    }
    Ok(out)
}

fn read_leaf(c: &mut Cursor, ctx: &mut Context, class_name: &str) -> PResult<RawLeaf> {
    let h = read_header(c, class_name)?;
    let hb = read_header(c, "TLeaf")?;
    read_tnamed(c)?;
    let len = c.i32()?;
    let _len_type = c.i32()?;
    let _offset = c.i32()?;
    let _is_range = c.u8()?;
    let is_unsigned = c.u8()? != 0;
    let leaf_count = read_object_any(c, ctx)?;
    finish(c, hb, "TLeaf")?;
    let element_type = if class_name == "TLeafElement" {
        let _id = c.i32()?;
        Some(c.i32()?)
    } else {
        None
    };
    finish(c, h, class_name)?;
    Ok(RawLeaf {
        class_name: class_name.to_string(),
        len,
        is_unsigned,
        has_leaf_count: !matches!(leaf_count, Obj::Null),
        element_type,
    })
}

fn read_any_branch(c: &mut Cursor, ctx: &mut Context, class_name: &str) -> PResult<RawBranch> {
    if class_name == "TBranch" {
        let mut b = read_tbranch(c, ctx)?;
        b.class_name = class_name.to_string();
        return Ok(b);
    }
    let h = read_header(c, class_name)?;
    let mut b = read_tbranch(c, ctx)?;
    b.class_name = class_name.to_string();
    if class_name == "TBranchElement" {
        let class = c.tstring()?;
        let _parent = c.tstring()?;
        let _clones = c.tstring()?;
        let _checksum = c.u32()?;
        if h.version >= 10 {
            let _class_version = c.i16()?;
        } else {
            let _class_version = c.i32()?;
        }
        let _id = c.i32()?;
        let ftype = c.i32()?;
        let streamer_type = c.i32()?;
        b.element = Some(ElementInfo {
            class_name: class,
            ftype,
            streamer_type,
        });
        // fMaximum, fBranchCount, fBranchCount2 are not needed.
    }
    finish(c, h, class_name)?;
    Ok(b)
}

fn read_tbranch(c: &mut Cursor, ctx: &mut Context) -> PResult<RawBranch> {
    let h = read_header(c, "TBranch")?;
    if h.version < 10 {
        return Err(format!(
            "TBranch version {} (ROOT 5.x before 2007) is not supported; versions 10 to 13 are",
            h.version
        ));
    }
    let (name, _title) = read_tnamed(c)?;
    skip_base(c, "TAttFill", 4)?;
    let _compress = c.i32()?;
    let _basket_size = c.i32()?;
    let _entry_offset_len = c.i32()?;
    let write_basket = c.i32()?;
    let _entry_number = c.i64()?;
    if h.version >= 13 {
        let hio = read_header(c, "ROOT::TIOFeatures")?;
        finish(c, hio, "ROOT::TIOFeatures")?;
    }
    let _offset = c.i32()?;
    let max_baskets = c.i32()?;
    let _split_level = c.i32()?;
    let entries = c.i64()?;
    if h.version >= 11 {
        let _first_entry = c.i64()?;
    }
    let _tot_bytes = c.i64()?;
    let _zip_bytes = c.i64()?;
    let mut branches = Vec::new();
    for o in read_tobjarray(c, ctx)? {
        if let Obj::Branch(b) = o {
            branches.push(*b);
        }
    }
    let mut leaves = Vec::new();
    for o in read_tobjarray(c, ctx)? {
        if let Obj::Leaf(l) = o {
            leaves.push(l);
        }
    }
    let embedded_baskets = read_tobjarray(c, ctx)?
        .iter()
        .filter(|o| !matches!(o, Obj::Null))
        .count();
    if max_baskets < 0 {
        return Err(format!("branch {name}: negative fMaxBaskets {max_baskets}"));
    }
    let n = max_baskets as usize;
    let basket_bytes = if c.u8()? != 0 {
        c.i32_array(n)?
    } else {
        Vec::new()
    };
    let basket_entry = if c.u8()? != 0 {
        c.i64_array(n)?
    } else {
        Vec::new()
    };
    let basket_seek = if c.u8()? != 0 {
        c.i64_array(n)?
    } else {
        Vec::new()
    };
    finish(c, h, "TBranch")?;
    Ok(RawBranch {
        class_name: String::new(),
        name,
        write_basket,
        entries,
        branches,
        leaves,
        embedded_baskets,
        basket_bytes,
        basket_entry,
        basket_seek,
        element: None,
    })
}

/// Read a `TTree` object (versions 16 to 20; later versions are attempted
/// with the version-20 layout, which the byte counts keep honest).
pub(crate) fn read_ttree(c: &mut Cursor) -> PResult<RawTree> {
    let mut ctx = Context::default();
    let h = read_header(c, "TTree")?;
    let v = h.version;
    if v < 16 {
        return Err(format!(
            "TTree version {v} (ROOT before 5.26) is not supported; versions 16 to 20 are"
        ));
    }
    read_tnamed(c)?;
    skip_base(c, "TAttLine", 6)?;
    skip_base(c, "TAttFill", 4)?;
    skip_base(c, "TAttMarker", 8)?;
    let entries = c.i64()?;
    let _tot = c.i64()?;
    let _zip = c.i64()?;
    let _saved = c.i64()?;
    if v >= 18 {
        let _flushed = c.i64()?;
    }
    let _weight = c.i64()?;
    let _timer = c.i32()?;
    let _scan = c.i32()?;
    let _update = c.i32()?;
    if v >= 17 {
        let _default_entry_offset_len = c.i32()?;
    }
    let n_cluster = if v >= 19 { c.i32()? } else { 0 };
    // fMaxEntries, fMaxEntryLoop, fMaxVirtualSize, fAutoSave, [fAutoFlush], fEstimate
    let n_i64 = if v >= 18 { 6 } else { 5 };
    c.skip(8 * n_i64)?;
    if v >= 19 {
        if n_cluster < 0 {
            return Err(format!("negative fNClusterRange {n_cluster}"));
        }
        for _ in 0..2 {
            if c.u8()? != 0 {
                c.skip((n_cluster as usize).saturating_mul(8))?;
            }
        }
    }
    if v >= 20 {
        let hio = read_header(c, "ROOT::TIOFeatures")?;
        finish(c, hio, "ROOT::TIOFeatures")?;
    }
    let mut branches = Vec::new();
    for o in read_tobjarray(c, &mut ctx)? {
        if let Obj::Branch(b) = o {
            branches.push(*b);
        }
    }
    // fLeaves, fAliases, fIndex... are not needed.
    Ok(RawTree { entries, branches })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bc(body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() as u32) | K_BYTE_COUNT_MASK)
            .to_be_bytes()
            .to_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn tobject_with_referenced_bit_has_pidf() {
        // version 1, uniqueID 0, bits with kIsReferenced, 2-byte pidf, then a marker
        let buf = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0x10, 0xAA, 0xBB, 0x42];
        let mut c = Cursor::new(&buf, 0);
        read_tobject(&mut c).unwrap();
        assert_eq!(c.u8().unwrap(), 0x42);
        let buf = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x42];
        let mut c = Cursor::new(&buf, 0);
        read_tobject(&mut c).unwrap();
        assert_eq!(c.u8().unwrap(), 0x42);
    }

    #[test]
    fn object_any_new_class_then_class_reference() {
        // Two objects of an unknown class "TFoo": first with a new class tag,
        // second referring to the class by offset. Origin (key length) 100.
        let mut buf = Vec::new();
        let mut body1 = K_NEW_CLASS_TAG.to_be_bytes().to_vec();
        body1.extend_from_slice(b"TFoo\0");
        body1.extend_from_slice(&[1, 2, 3]);
        buf.extend(bc(&body1));
        // class tag was at displacement 100 + 4; reference = that + 2
        let r = (100 + 4 + 2) as u32 | K_CLASS_MASK;
        let mut body2 = r.to_be_bytes().to_vec();
        body2.extend_from_slice(&[9, 9]);
        buf.extend(bc(&body2));
        buf.extend_from_slice(&[0, 0, 0, 0]); // null
        buf.extend_from_slice(&[0, 0, 0, 7]); // reference to an object
        let mut c = Cursor::new(&buf, 100);
        let mut ctx = Context::default();
        assert!(matches!(read_object_any(&mut c, &mut ctx).unwrap(), Obj::Other(n) if n == "TFoo"));
        assert!(matches!(read_object_any(&mut c, &mut ctx).unwrap(), Obj::Other(n) if n == "TFoo"));
        assert!(matches!(
            read_object_any(&mut c, &mut ctx).unwrap(),
            Obj::Null
        ));
        assert!(matches!(
            read_object_any(&mut c, &mut ctx).unwrap(),
            Obj::Reference
        ));
        assert_eq!(c.remaining(), 0);
    }

    #[test]
    fn object_any_errors() {
        // unknown class reference
        let mut buf = bc(&(5u32 | K_CLASS_MASK).to_be_bytes());
        let mut c = Cursor::new(&buf, 0);
        assert!(read_object_any(&mut c, &mut Context::default()).is_err());
        // byte count past the end
        buf = (1000u32 | K_BYTE_COUNT_MASK).to_be_bytes().to_vec();
        buf.extend_from_slice(&K_NEW_CLASS_TAG.to_be_bytes());
        let mut c = Cursor::new(&buf, 0);
        assert!(read_object_any(&mut c, &mut Context::default()).is_err());
        // TObjArray claiming too many elements
        let mut arr = vec![0, 3]; // version 3 without byte count
        arr.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0, 0, 0]); // TObject
        arr.push(0); // name
        arr.extend_from_slice(&i32::MAX.to_be_bytes());
        arr.extend_from_slice(&[0, 0, 0, 0]);
        let mut c = Cursor::new(&arr, 0);
        assert!(read_tobjarray(&mut c, &mut Context::default()).is_err());
    }

    #[test]
    fn key_small_and_big() {
        let mut k = Vec::new();
        k.extend_from_slice(&100i32.to_be_bytes());
        k.extend_from_slice(&4i16.to_be_bytes());
        k.extend_from_slice(&200i32.to_be_bytes());
        k.extend_from_slice(&0u32.to_be_bytes());
        k.extend_from_slice(&40i16.to_be_bytes());
        k.extend_from_slice(&3i16.to_be_bytes());
        k.extend_from_slice(&1234i32.to_be_bytes());
        k.extend_from_slice(&100i32.to_be_bytes());
        for s in ["TTree", "T", "title"] {
            k.push(s.len() as u8);
            k.extend_from_slice(s.as_bytes());
        }
        let key = read_key(&mut Cursor::new(&k, 0)).unwrap();
        assert_eq!((key.seek_key, key.cycle, key.name.as_str()), (1234, 3, "T"));
        let mut big = k[..18].to_vec();
        big[4..6].copy_from_slice(&1004i16.to_be_bytes());
        big.extend_from_slice(&(1i64 << 40).to_be_bytes());
        big.extend_from_slice(&100i64.to_be_bytes());
        big.extend_from_slice(&k[26..]);
        let key = read_key(&mut Cursor::new(&big, 0)).unwrap();
        assert_eq!(key.seek_key, 1 << 40);
        assert_eq!(key.class_name, "TTree");
        assert!(read_key(&mut Cursor::new(&big[..30], 0)).is_err());
    }
}
