//! Trees, branches and basket decoding.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::Source;
use super::compression;
use super::cursor::{Cursor, PResult};
use super::error::{BasketError, RootError};
use super::objects::{RawBranch, RawLeaf, RawTree, read_key};

/// Values of a branch over a range of entries: entry `i` holds
/// `values[offsets[i]..offsets[i + 1]]`, so `offsets.len()` is the number of
/// entries plus one. Fixed-size arrays contribute `fixed` consecutive values
/// per element (see [`BranchInfo::fixed`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Jagged<T> {
    /// Start of each entry in `values`, plus the final end.
    pub offsets: Vec<usize>,
    /// All values, entry after entry.
    pub values: Vec<T>,
}

impl<T> Jagged<T> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values of entry `i` (empty when out of range).
    pub fn entry(&self, i: usize) -> &[T] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.values.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Description of one branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchInfo {
    /// Full branch name as stored, e.g. `Jet.PT` or `Jet.FracPt[5]`.
    pub name: String,
    /// Type description: `float`, `int32[]`, `float[][5]`,
    /// `TClonesArray (counts: int32)`, or a reason it is unsupported.
    pub type_name: String,
    /// Whether [`Tree::read_f64`] (and, for integers, [`Tree::read_i64`]) can read it.
    pub readable: bool,
    /// Whether the number of elements varies per entry.
    pub jagged: bool,
    /// Values per element (5 for `Jet.FracPt[5]`, 1 for scalars).
    pub fixed: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NumType {
    Bool,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

impl NumType {
    fn size(self) -> usize {
        match self {
            NumType::Bool | NumType::I8 | NumType::U8 => 1,
            NumType::I16 | NumType::U16 => 2,
            NumType::I32 | NumType::U32 | NumType::F32 => 4,
            NumType::I64 | NumType::U64 | NumType::F64 => 8,
        }
    }
    fn name(self) -> &'static str {
        match self {
            NumType::Bool => "bool",
            NumType::I8 => "int8",
            NumType::U8 => "uint8",
            NumType::I16 => "int16",
            NumType::U16 => "uint16",
            NumType::I32 => "int32",
            NumType::U32 => "uint32",
            NumType::I64 => "int64",
            NumType::U64 => "uint64",
            NumType::F32 => "float",
            NumType::F64 => "double",
        }
    }
    fn is_integer(self) -> bool {
        !matches!(self, NumType::F32 | NumType::F64)
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Numeric {
        ty: NumType,
        fixed: usize,
        jagged: bool,
    },
    Unsupported,
}

#[derive(Clone, Copy, Debug)]
struct BasketLoc {
    seek: i64,
    bytes: i32,
    start: u64,
    end: u64,
}

#[derive(Clone, Debug)]
struct BranchData {
    name: String,
    type_name: String,
    kind: Kind,
    baskets: Result<Vec<BasketLoc>, String>,
    embedded: usize,
}

/// A TTree: its entry count and flat list of branches.
#[derive(Clone, Debug)]
pub struct Tree {
    src: Arc<Source>,
    name: String,
    entries: u64,
    branches: Vec<BranchData>,
    index: HashMap<String, usize>,
}

/// Streamer type code (as in `TStreamerInfo`) to a basic numeric type.
fn streamer_basic(code: i32, unsigned: bool) -> Option<NumType> {
    Some(match code {
        1 => {
            if unsigned {
                NumType::U8
            } else {
                NumType::I8
            }
        }
        2 => NumType::I16,
        3 | 6 => NumType::I32,
        4 | 16 => NumType::I64,
        5 => NumType::F32,
        8 => NumType::F64,
        11 => NumType::U8,
        12 => NumType::U16,
        13 => NumType::U32,
        14 | 17 => NumType::U64,
        18 => NumType::Bool,
        _ => return None,
    })
}

fn streamer_unsupported(code: i32) -> String {
    let what = match code {
        9 | 29 => "Double32_t, width depends on streamer info",
        19 | 39 => "Float16_t, width depends on streamer info",
        15 | 35 => "TObject::fBits, variable width",
        0 => "base class",
        61 | 62 | 66 | 67 => "object member such as TRef, TRefArray or TLorentzVector",
        63 | 64 | 68 | 69 => "object pointer",
        65 => "TString",
        300 | 500 => "STL container",
        81..=89 => "fixed array of objects, e.g. TLorentzVector[5]",
        _ => "not a basic numeric type",
    };
    format!("unsupported: streamer type {code} ({what})")
}

fn leaf_basic(leaf: &RawLeaf) -> Result<NumType, String> {
    Ok(match leaf.class_name.as_str() {
        "TLeafO" => NumType::Bool,
        "TLeafB" => {
            if leaf.is_unsigned {
                NumType::U8
            } else {
                NumType::I8
            }
        }
        "TLeafS" => {
            if leaf.is_unsigned {
                NumType::U16
            } else {
                NumType::I16
            }
        }
        "TLeafI" => {
            if leaf.is_unsigned {
                NumType::U32
            } else {
                NumType::I32
            }
        }
        "TLeafL" | "TLeafG" => {
            if leaf.is_unsigned {
                NumType::U64
            } else {
                NumType::I64
            }
        }
        "TLeafF" => NumType::F32,
        "TLeafD" => NumType::F64,
        "TLeafC" => return Err("unsupported: TLeafC (C string)".into()),
        "TLeafF16" | "TLeafD32" => {
            return Err(format!(
                "unsupported: {} (width depends on its range)",
                leaf.class_name
            ));
        }
        other => return Err(format!("unsupported: leaf class {other}")),
    })
}

fn describe(ty: NumType, fixed: usize, jagged: bool) -> String {
    let mut s = ty.name().to_string();
    if jagged {
        s.push_str("[]");
    }
    if fixed > 1 {
        s.push_str(&format!("[{fixed}]"));
    }
    s
}

fn classify(b: &RawBranch) -> (Kind, String) {
    let unsupported = |s: String| (Kind::Unsupported, s);
    if let Some(el) = &b.element {
        if el.ftype == 3 {
            return (
                Kind::Numeric {
                    ty: NumType::I32,
                    fixed: 1,
                    jagged: false,
                },
                "TClonesArray (counts: int32)".to_string(),
            );
        }
        if !matches!(el.ftype, 0 | 2 | 31) {
            let what = match el.ftype {
                1 => "base class",
                4 => "top of a split STL collection",
                41 => "member of a split STL collection",
                _ => "branch type",
            };
            return unsupported(format!(
                "{} (unsupported: TBranchElement fType {} = {what})",
                el.class_name, el.ftype
            ));
        }
        let [leaf] = b.leaves.as_slice() else {
            return unsupported(format!("unsupported: {} leaves", b.leaves.len()));
        };
        let code = leaf.element_type.unwrap_or(el.streamer_type);
        if code < 0 || (el.ftype == 0 && el.streamer_type < 0) {
            return unsupported(format!("{} (unsupported: object branch)", el.class_name));
        }
        let basic = if (21..40).contains(&code) {
            streamer_basic(code - 20, leaf.is_unsigned)
        } else {
            streamer_basic(code, leaf.is_unsigned)
        };
        let Some(ty) = basic else {
            return unsupported(streamer_unsupported(code));
        };
        let fixed = usize::try_from(leaf.len).unwrap_or(1).max(1);
        let jagged = el.ftype == 31 || leaf.has_leaf_count;
        return (
            Kind::Numeric { ty, fixed, jagged },
            describe(ty, fixed, jagged),
        );
    }
    if b.class_name != "TBranch" {
        return unsupported(format!("unsupported: {}", b.class_name));
    }
    let [leaf] = b.leaves.as_slice() else {
        return unsupported(format!(
            "unsupported: leaf list with {} leaves",
            b.leaves.len()
        ));
    };
    match leaf_basic(leaf) {
        Ok(ty) => {
            let fixed = usize::try_from(leaf.len).unwrap_or(1).max(1);
            let jagged = leaf.has_leaf_count;
            (
                Kind::Numeric { ty, fixed, jagged },
                describe(ty, fixed, jagged),
            )
        }
        Err(e) => unsupported(e),
    }
}

fn basket_table(b: &RawBranch) -> Result<Vec<BasketLoc>, String> {
    let n = usize::try_from(b.write_basket)
        .map_err(|_| format!("negative fWriteBasket {}", b.write_basket))?;
    if n > b.basket_bytes.len() || n > b.basket_entry.len() || n > b.basket_seek.len() {
        return Err(format!(
            "fWriteBasket {n} exceeds the basket arrays ({} / {} / {})",
            b.basket_bytes.len(),
            b.basket_entry.len(),
            b.basket_seek.len()
        ));
    }
    let entries =
        u64::try_from(b.entries).map_err(|_| format!("negative fEntries {}", b.entries))?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let start =
            u64::try_from(b.basket_entry[i]).map_err(|_| format!("negative fBasketEntry[{i}]"))?;
        let end = if i + 1 < n {
            u64::try_from(b.basket_entry[i + 1])
                .map_err(|_| format!("negative fBasketEntry[{}]", i + 1))?
        } else {
            match b.basket_entry.get(n).and_then(|&e| u64::try_from(e).ok()) {
                Some(e) if e > start && e <= entries => e,
                _ => entries,
            }
        };
        if end < start || out.last().is_some_and(|p: &BasketLoc| p.end != start) {
            return Err(format!("fBasketEntry is not increasing at basket {i}"));
        }
        out.push(BasketLoc {
            seek: b.basket_seek[i],
            bytes: b.basket_bytes[i],
            start,
            end,
        });
    }
    Ok(out)
}

fn flatten(b: &RawBranch, out: &mut Vec<BranchData>) {
    let (kind, type_name) = classify(b);
    out.push(BranchData {
        name: b.name.clone(),
        type_name,
        kind,
        baskets: basket_table(b),
        embedded: b.embedded_baskets,
    });
    for sub in &b.branches {
        flatten(sub, out);
    }
}

/// One decompressed basket: the data part and the byte range of each entry.
struct Basket {
    data: Vec<u8>,
    /// `nev + 1` offsets into `data`, or None for fixed-size entries.
    offsets: Option<Vec<usize>>,
    nev: usize,
}

fn parse_basket(src: &Source, loc: &BasketLoc) -> PResult<Basket> {
    let nbytes = usize::try_from(loc.bytes)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("invalid basket size {}", loc.bytes))?;
    let buf = src.read_at(loc.seek, nbytes)?;
    let mut c = Cursor::new(&buf, 0);
    let key = read_key(&mut c)?;
    let _version = c.i16()?;
    let _buffer_size = c.i32()?;
    let nev_buf_size = c.i32()?;
    let nev = c.i32()?;
    let last = c.i32()?;
    let _flag = c.u8()?;
    let keylen = usize::try_from(key.keylen).map_err(|_| "negative fKeylen".to_string())?;
    let kn = usize::try_from(key.nbytes).map_err(|_| "negative fNbytes".to_string())?;
    if kn != nbytes || keylen < c.pos() || keylen > kn {
        return Err(format!(
            "basket key is inconsistent (fNbytes {} vs {nbytes} from the branch, fKeylen {keylen})",
            key.nbytes
        ));
    }
    let objlen = usize::try_from(key.objlen)
        .ok()
        .filter(|&o| o <= super::MAX_OBJLEN)
        .ok_or_else(|| format!("invalid fObjlen {}", key.objlen))?;
    let payload = &buf[keylen..];
    let mut data = if objlen == payload.len() {
        payload.to_vec()
    } else {
        compression::decompress(payload, objlen)?
    };
    let nev = usize::try_from(nev).map_err(|_| format!("negative fNevBuf {nev}"))?;
    let border = usize::try_from(last)
        .ok()
        .and_then(|l| l.checked_sub(keylen))
        .filter(|&b| b <= data.len())
        .ok_or_else(|| {
            format!(
                "fLast {last} is outside the basket data ({} bytes after a {keylen}-byte key)",
                data.len()
            )
        })?;
    let offsets = if border < data.len() {
        let mut oc = Cursor::new(&data[border..], 0);
        let _count = oc.i32()?;
        if nev.saturating_mul(4) > oc.remaining() {
            return Err(format!(
                "entry offsets for {nev} entries do not fit in {} bytes",
                oc.remaining()
            ));
        }
        let mut offs = Vec::with_capacity(nev + 1);
        for i in 0..nev {
            let raw = oc.i32()?;
            let o = usize::try_from(raw)
                .ok()
                .and_then(|r| r.checked_sub(keylen))
                .filter(|&o| o <= border && offs.last().is_none_or(|&p| p <= o))
                .ok_or_else(|| format!("entry offset {i} ({raw}) is invalid"))?;
            offs.push(o);
        }
        offs.push(border);
        Some(offs)
    } else {
        let _ = nev_buf_size;
        None
    };
    data.truncate(border);
    Ok(Basket { data, offsets, nev })
}

fn push_f64(ty: NumType, b: &[u8], out: &mut Vec<f64>) {
    match ty {
        NumType::Bool | NumType::U8 => out.extend(b.iter().map(|&x| f64::from(x))),
        NumType::I8 => out.extend(b.iter().map(|&x| f64::from(x as i8))),
        NumType::I16 => out.extend(
            b.chunks_exact(2)
                .map(|c| f64::from(i16::from_be_bytes([c[0], c[1]]))),
        ),
        NumType::U16 => out.extend(
            b.chunks_exact(2)
                .map(|c| f64::from(u16::from_be_bytes([c[0], c[1]]))),
        ),
        NumType::I32 => out.extend(
            b.chunks_exact(4)
                .map(|c| f64::from(i32::from_be_bytes([c[0], c[1], c[2], c[3]]))),
        ),
        NumType::U32 => out.extend(
            b.chunks_exact(4)
                .map(|c| f64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))),
        ),
        NumType::F32 => out.extend(
            b.chunks_exact(4)
                .map(|c| f64::from(f32::from_be_bytes([c[0], c[1], c[2], c[3]]))),
        ),
        NumType::I64 => out.extend(b.chunks_exact(8).map(|c| be8(c) as i64 as f64)),
        NumType::U64 => out.extend(b.chunks_exact(8).map(|c| be8(c) as f64)),
        NumType::F64 => out.extend(b.chunks_exact(8).map(|c| f64::from_bits(be8(c)))),
    }
}

fn push_i64(ty: NumType, b: &[u8], out: &mut Vec<i64>) -> PResult<()> {
    match ty {
        NumType::Bool | NumType::U8 => out.extend(b.iter().map(|&x| i64::from(x))),
        NumType::I8 => out.extend(b.iter().map(|&x| i64::from(x as i8))),
        NumType::I16 => out.extend(
            b.chunks_exact(2)
                .map(|c| i64::from(i16::from_be_bytes([c[0], c[1]]))),
        ),
        NumType::U16 => out.extend(
            b.chunks_exact(2)
                .map(|c| i64::from(u16::from_be_bytes([c[0], c[1]]))),
        ),
        NumType::I32 => out.extend(
            b.chunks_exact(4)
                .map(|c| i64::from(i32::from_be_bytes([c[0], c[1], c[2], c[3]]))),
        ),
        NumType::U32 => out.extend(
            b.chunks_exact(4)
                .map(|c| i64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))),
        ),
        NumType::I64 => out.extend(b.chunks_exact(8).map(|c| be8(c) as i64)),
        NumType::U64 => {
            for c in b.chunks_exact(8) {
                let v = be8(c);
                out.push(
                    i64::try_from(v)
                        .map_err(|_| format!("uint64 value {v} does not fit in int64"))?,
                );
            }
        }
        NumType::F32 | NumType::F64 => return Err("floating-point branch; use read_f64".into()),
    }
    Ok(())
}

fn be8(c: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&c[..8]);
    u64::from_be_bytes(a)
}

impl Tree {
    pub(crate) fn new(src: Arc<Source>, name: String, raw: RawTree) -> Tree {
        let mut branches = Vec::new();
        for b in &raw.branches {
            flatten(b, &mut branches);
        }
        let mut index = HashMap::new();
        for (i, b) in branches.iter().enumerate() {
            index.entry(b.name.clone()).or_insert(i);
        }
        // Also allow `Jet.FracPt` for `Jet.FracPt[5]`.
        for (i, b) in branches.iter().enumerate() {
            if let Some(p) = b.name.find('[') {
                index.entry(b.name[..p].to_string()).or_insert(i);
            }
        }
        Tree {
            src,
            name,
            entries: u64::try_from(raw.entries).unwrap_or(0),
            branches,
            index,
        }
    }

    /// Tree name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of entries.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// All branches, nested ones included, in file order.
    pub fn branches(&self) -> impl Iterator<Item = BranchInfo> + '_ {
        self.branches.iter().map(|b| {
            let (readable, jagged, fixed) = match b.kind {
                Kind::Numeric { fixed, jagged, .. } => (b.baskets.is_ok(), jagged, fixed),
                Kind::Unsupported => (false, false, 1),
            };
            BranchInfo {
                name: b.name.clone(),
                type_name: b.type_name.clone(),
                readable,
                jagged,
                fixed,
            }
        })
    }

    /// Whether a branch of that name exists (`Jet.FracPt` also finds `Jet.FracPt[5]`).
    pub fn has_branch(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    fn find(&self, name: &str) -> Result<&BranchData, RootError> {
        if let Some(&i) = self.index.get(name)
            && let Some(b) = self.branches.get(i)
        {
            return Ok(b);
        }
        let mut near: Vec<(usize, &str)> = self
            .branches
            .iter()
            .map(|b| (strsim::levenshtein(name, &b.name), b.name.as_str()))
            .collect();
        near.sort();
        let near: Vec<&str> = near.iter().take(5).map(|(_, n)| *n).collect();
        let hint = if near.is_empty() {
            " (the tree has no branches)".to_string()
        } else {
            format!(" (closest: {})", near.join(", "))
        };
        Err(RootError::NoSuchBranch {
            path: self.src.path.clone(),
            tree: self.name.clone(),
            branch: name.to_string(),
            hint,
        })
    }

    fn type_error(&self, b: &BranchData, detail: impl Into<String>) -> RootError {
        RootError::BranchType {
            path: self.src.path.clone(),
            tree: self.name.clone(),
            branch: b.name.clone(),
            type_name: b.type_name.clone(),
            detail: detail.into(),
        }
    }

    /// Decode entries `range` of branch `b`, pushing each entry's bytes
    /// through `push`.
    fn read_with<T>(
        &self,
        b: &BranchData,
        range: Range<u64>,
        mut push: impl FnMut(NumType, &[u8], &mut Vec<T>) -> PResult<()>,
    ) -> Result<Jagged<T>, RootError> {
        let Kind::Numeric {
            ty, fixed, jagged, ..
        } = b.kind
        else {
            return Err(self.type_error(b, "this branch type cannot be read"));
        };
        let (start, end) = (range.start, range.end);
        if start > end || end > self.entries {
            return Err(RootError::BadRange {
                path: self.src.path.clone(),
                tree: self.name.clone(),
                branch: b.name.clone(),
                start,
                end,
                entries: self.entries,
            });
        }
        let baskets = b.baskets.as_ref().map_err(|e| {
            self.src.malformed(
                format!("tree '{}', branch '{}'", self.name, b.name),
                e.clone(),
            )
        })?;
        let covered = baskets.last().map_or(0, |l| l.end);
        if end > covered {
            let why = if b.embedded > 0 {
                "they are in a basket stored inside the TTree object (a recovered basket from a file that was not closed properly), which this reader refuses"
            } else {
                "the branch has no basket holding them"
            };
            return Err(self.src.malformed(
                format!(
                    "tree '{}', branch '{}', entries {start}..{end}",
                    self.name, b.name
                ),
                format!("entries {covered}..{end} cannot be read: {why}"),
            ));
        }
        let item = ty.size() * fixed;
        let mut out = Jagged {
            // The entry count comes from the file: cap the up-front reservation.
            offsets: Vec::with_capacity(((end - start) as usize).min(1 << 20) + 1),
            values: Vec::new(),
        };
        out.offsets.push(0);
        for (bi, loc) in baskets.iter().enumerate() {
            if loc.end <= start || loc.start >= end || loc.start == loc.end {
                continue;
            }
            let err = |detail: String| {
                RootError::Basket(Box::new(BasketError {
                    path: self.src.path.clone(),
                    tree: self.name.clone(),
                    branch: b.name.clone(),
                    basket: bi,
                    basket_entries: loc.start..loc.end,
                    entries: start..end,
                    detail,
                }))
            };
            let basket = parse_basket(&self.src, loc).map_err(err)?;
            let n = (loc.end - loc.start) as usize;
            if basket.nev != n {
                return Err(err(format!(
                    "basket holds {} entries, the branch says {n}",
                    basket.nev
                )));
            }
            let lo = (start.max(loc.start) - loc.start) as usize;
            let hi = (end.min(loc.end) - loc.start) as usize;
            for e in lo..hi {
                let bytes = match &basket.offsets {
                    Some(o) => match (o.get(e), o.get(e + 1)) {
                        (Some(&a), Some(&z)) => basket.data.get(a..z),
                        _ => None,
                    },
                    None => basket.data.get(e * item..(e + 1) * item),
                };
                let bytes = bytes.ok_or_else(|| {
                    err(format!(
                        "entry {} lies outside the basket data",
                        loc.start + e as u64
                    ))
                })?;
                if bytes.len() % item != 0 || (!jagged && bytes.len() != item) {
                    return Err(err(format!(
                        "entry {} has {} bytes, expected {} {} bytes of {}",
                        loc.start + e as u64,
                        bytes.len(),
                        if jagged { "a multiple of" } else { "exactly" },
                        item,
                        b.type_name
                    )));
                }
                push(ty, bytes, &mut out.values).map_err(err)?;
                out.offsets.push(out.values.len());
            }
            if basket.offsets.is_none() && basket.data.len() != n * item {
                return Err(err(format!(
                    "basket has {} data bytes, expected {n} entries of {item} bytes",
                    basket.data.len()
                )));
            }
        }
        Ok(out)
    }

    /// Read a numeric branch over entries `[start, end)` as `f64` (exact for
    /// every type except 64-bit integers beyond 2^53). A scalar branch gives
    /// one value per entry; fixed arrays give `fixed` values per element.
    pub fn read_f64(&self, branch: &str, entries: Range<u64>) -> Result<Jagged<f64>, RootError> {
        let b = self.find(branch)?;
        self.read_with(b, entries, |ty, bytes, out| {
            push_f64(ty, bytes, out);
            Ok(())
        })
    }

    /// Read an integer (or bool) branch exactly as `i64`.
    pub fn read_i64(&self, branch: &str, entries: Range<u64>) -> Result<Jagged<i64>, RootError> {
        let b = self.find(branch)?;
        if let Kind::Numeric { ty, .. } = b.kind
            && !ty.is_integer()
        {
            return Err(self.type_error(b, "read_i64 needs an integer branch; use read_f64"));
        }
        self.read_with(b, entries, push_i64)
    }

    /// The number of elements per entry: for a split `TClonesArray` top
    /// branch like `Jet`, its stored counts; for a scalar integer branch like
    /// `Jet_size`, its values; for a jagged branch like `Jet.PT`, the number
    /// of elements in each entry.
    pub fn read_counts(&self, branch: &str, entries: Range<u64>) -> Result<Vec<u32>, RootError> {
        let b = self.find(branch)?;
        let Kind::Numeric {
            ty, fixed, jagged, ..
        } = b.kind
        else {
            return Err(self.type_error(b, "this branch type cannot be read"));
        };
        if jagged {
            let j = self.read_with(b, entries, |ty, bytes, out: &mut Vec<()>| {
                out.extend(std::iter::repeat_n((), bytes.len() / ty.size()));
                Ok(())
            })?;
            return Ok(j
                .offsets
                .windows(2)
                .map(|w| ((w[1] - w[0]) / fixed) as u32)
                .collect());
        }
        if !ty.is_integer() || fixed != 1 {
            return Err(self.type_error(
                b,
                "read_counts needs a TClonesArray top branch, a scalar integer branch or a jagged branch",
            ));
        }
        let j = self.read_with(b, entries, push_i64)?;
        j.values
            .iter()
            .map(|&v| {
                u32::try_from(v)
                    .map_err(|_| self.type_error(b, format!("count {v} is negative or too large")))
            })
            .collect()
    }
}
