//! A focused, panic-free reader for ROOT `TTree`s, as written by Delphes and
//! by simple flat-tree writers.
//!
//! # What is supported
//!
//! * File headers with 32-bit and 64-bit seeks (small and big files), `TKey`s
//!   of both kinds, the top directory and `TDirectory` subdirectories (their
//!   keys are listed as `dir/name`).
//! * `TTree` class versions 16 to 20 (ROOT 5.26 onwards; later versions are
//!   tried with the version-20 layout), `TBranch` 10 to 13, `TBranchElement`,
//!   `TLeaf` and its subclasses, `TObjArray`, with class tags and references
//!   resolved and every object skipped by its byte count. No `TStreamerInfo`
//!   is parsed, so unknown members never stop the reader.
//! * Numeric data: plain leaves (`TLeafB/S/I/L/G/F/D/O`, scalars, fixed arrays
//!   and variable arrays with a count leaf), and Delphes split `TClonesArray`
//!   branches: the top branch (e.g. `Jet`, `TBranchElement` fType 3, one
//!   `int32` count per entry, see [`Tree::read_counts`]) and its basic-typed
//!   members (fType 31, e.g. `Jet.PT`, `Electron.Charge`, `Event.Number`,
//!   fixed arrays such as `Jet.FracPt[5]`).
//! * Compression: zlib (`ZL`), xz (`XZ`), lz4 (`L4`) and zstd (`ZS`), with
//!   records made of several blocks; uncompressed records.
//! * Tree and branch metadata only is read when a tree is opened; reading a
//!   branch touches only the baskets that overlap the requested entry range.
//!
//! # What is refused, and why
//!
//! * ROOT's old `CS` compression algorithm (files from before 2006): no
//!   maintained Rust implementation, and no file we need uses it.
//! * Branches whose type needs streamer information to decode: `TRef`,
//!   `TRefArray`, `TLorentzVector` and other object members, `TString`, STL
//!   containers, `Double32_t`/`Float16_t` (their on-disk width depends on a
//!   range in the streamer title), `TObject::fBits` (its width varies: ROOT
//!   adds 2 bytes for referenced objects), leaf lists with several leaves and
//!   `TLeafC` strings. They are listed by [`Tree::branches`] with
//!   `readable == false`; reading them gives [`RootError::BranchType`].
//! * Entries held in baskets stored inside the `TTree` object itself
//!   ("recovered" baskets of a file that was not closed properly).
//! * `TTree` versions below 16 and `TBranch` versions below 10.
//!
//! The lz4 block checksum (xxhash64) is not verified; the lz4 decoder itself
//! is bounds-checked. No input makes the reader panic: every length read from
//! the file is checked against the buffer or the file size before use.

mod compression;
mod cursor;
mod error;
mod objects;
mod tree;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::{BasketError, RootError};
pub use tree::{BranchInfo, Jagged, Tree};

use cursor::Cursor;
use objects::{Key, read_dir_record, read_key};

/// Largest uncompressed object size accepted (guards allocations).
const MAX_OBJLEN: usize = 1 << 31;
/// Deepest directory nesting followed.
const MAX_DIR_DEPTH: usize = 16;

/// One key of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// Object name; keys in subdirectories are given as `dir/name`.
    pub name: String,
    /// ROOT class name, e.g. `TTree`.
    pub class_name: String,
    /// Cycle number.
    pub cycle: u16,
    /// Object title.
    pub title: String,
}

/// The open file shared by a [`RootFile`] and its [`Tree`]s.
#[derive(Debug)]
pub(crate) struct Source {
    pub(crate) path: PathBuf,
    data: Data,
    len: u64,
}

/// Where a [`Source`]'s bytes are: a file read on demand, or memory.
#[derive(Debug)]
enum Data {
    File(File),
    Bytes(Vec<u8>),
}

impl Source {
    pub(crate) fn malformed(
        &self,
        context: impl Into<String>,
        detail: impl Into<String>,
    ) -> RootError {
        RootError::Malformed {
            path: self.path.clone(),
            context: context.into(),
            detail: detail.into(),
        }
    }

    /// Read `len` bytes at `offset`, checking against the file size first.
    /// The caller adds what was being read to an error.
    pub(crate) fn read_at(&self, offset: i64, len: usize) -> Result<Vec<u8>, String> {
        let end = u64::try_from(offset)
            .ok()
            .and_then(|o| o.checked_add(len as u64).map(|e| (o, e)));
        match end {
            Some((o, e)) if e <= self.len => match &self.data {
                Data::File(file) => {
                    let mut buf = vec![0u8; len];
                    file.read_exact_at(&mut buf, o)
                        .map_err(|e| format!("read of {len} bytes at offset {o} failed: {e}"))?;
                    Ok(buf)
                }
                // `e <= self.len`, the length of `bytes`.
                Data::Bytes(bytes) => Ok(bytes[o as usize..e as usize].to_vec()),
            },
            _ => Err(format!(
                "needs {len} bytes at offset {offset}, but the file has only {} bytes (truncated file?)",
                self.len
            )),
        }
    }

    /// Read the object a key points to; returns the object bytes
    /// (decompressed) and the key length, which is the origin of the
    /// object's internal offsets. The caller adds what was being read to an
    /// error.
    pub(crate) fn read_object(&self, key: &Key) -> Result<(Vec<u8>, usize), String> {
        let (nbytes, keylen, objlen) = (key.nbytes, key.keylen, key.objlen);
        if keylen < 0 || nbytes < i32::from(keylen) || objlen < 0 {
            return Err(format!(
                "inconsistent key (fNbytes {nbytes}, fKeylen {keylen}, fObjlen {objlen})"
            ));
        }
        let (nbytes, keylen, objlen) = (nbytes as usize, keylen as usize, objlen as usize);
        if objlen > MAX_OBJLEN {
            return Err(format!("object of {objlen} bytes is too large"));
        }
        let buf = self.read_at(key.seek_key, nbytes)?;
        let payload = &buf[keylen..];
        if objlen == payload.len() {
            return Ok((payload.to_vec(), keylen));
        }
        let data = compression::decompress(payload, objlen)?;
        Ok((data, keylen))
    }
}

/// An open ROOT file: its header and the keys of its directories.
#[derive(Debug)]
pub struct RootFile {
    src: Arc<Source>,
    version: i32,
    infos: Vec<KeyInfo>,
    keys: Vec<Key>,
}

impl RootFile {
    /// Open a ROOT file and read its header and key lists.
    pub fn open(path: impl AsRef<Path>) -> Result<RootFile, RootError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| RootError::Io {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        RootFile::from_source(Source {
            path,
            data: Data::File(file),
            len,
        })
    }

    /// Read a ROOT file held in memory, as [`RootFile::open`] reads one on
    /// disk. `name` stands for the file's path in errors and
    /// [`RootFile::path`]; it need not exist. The bytes are owned by the file
    /// and shared with its trees.
    pub fn from_bytes(name: impl Into<PathBuf>, bytes: Vec<u8>) -> Result<RootFile, RootError> {
        let len = bytes.len() as u64;
        RootFile::from_source(Source {
            path: name.into(),
            data: Data::Bytes(bytes),
            len,
        })
    }

    fn from_source(src: Source) -> Result<RootFile, RootError> {
        let len = src.len;
        let head_len = len.min(128) as usize;
        let head = src
            .read_at(0, head_len)
            .map_err(|e| src.malformed("file header", e))?;
        if head.get(..4) != Some(b"root".as_slice()) {
            return Err(RootError::NotRoot { path: src.path });
        }
        let hdr = |e: String| src.malformed("file header", e);
        let mut c = Cursor::new(&head, 0);
        c.skip(4).map_err(hdr)?;
        let version = c.i32().map_err(hdr)?;
        let begin = c.i32().map_err(hdr)?;
        let big = version >= 1_000_000;
        let end = if big { c.i64() } else { c.i32().map(i64::from) }.map_err(hdr)?;
        if end < 0 || end as u64 > len {
            return Err(src.malformed(
                "file header",
                format!("the header says the file is {end} bytes long but it has {len} bytes (truncated file?)"),
            ));
        }
        // fSeekFree, fNbytesFree, nfree
        if big { c.i64() } else { c.i32().map(i64::from) }.map_err(hdr)?;
        c.i32().map_err(hdr)?;
        c.i32().map_err(hdr)?;
        let nbytes_name = c.i32().map_err(hdr)?;
        // The top directory record follows the file's own key and name.
        let dir_pos = i64::from(begin) + i64::from(nbytes_name);
        let dir_len = (len as i64 - dir_pos).clamp(0, 64) as usize;
        let dir_buf = src
            .read_at(dir_pos, dir_len)
            .map_err(|e| src.malformed("top directory", e))?;
        let dir = read_dir_record(&mut Cursor::new(&dir_buf, 0))
            .map_err(|e| src.malformed("top directory", e))?;
        let mut rf = RootFile {
            src: Arc::new(src),
            version,
            infos: Vec::new(),
            keys: Vec::new(),
        };
        let mut visited = Vec::new();
        rf.read_keys(dir.seek_keys, dir.nbytes_keys, "", 0, &mut visited)?;
        Ok(rf)
    }

    fn read_keys(
        &mut self,
        seek_keys: i64,
        nbytes_keys: i32,
        prefix: &str,
        depth: usize,
        visited: &mut Vec<i64>,
    ) -> Result<(), RootError> {
        let what = if prefix.is_empty() {
            "key list of the top directory".to_string()
        } else {
            format!("key list of directory '{}'", prefix.trim_end_matches('/'))
        };
        if visited.contains(&seek_keys) || depth > MAX_DIR_DEPTH {
            return Err(self
                .src
                .malformed(&what, "directory structure loops or is too deep"));
        }
        visited.push(seek_keys);
        if nbytes_keys == 0 {
            // A directory that never held an object has no key list.
            return Ok(());
        }
        if nbytes_keys < 0 {
            return Err(self
                .src
                .malformed(&what, format!("invalid key list size {nbytes_keys}")));
        }
        let buf = self
            .src
            .read_at(seek_keys, nbytes_keys as usize)
            .map_err(|e| self.src.malformed(&what, e))?;
        let parsed = (|| {
            let mut c = Cursor::new(&buf, 0);
            let head = read_key(&mut c)?;
            c.set_pos(usize::try_from(head.keylen).map_err(|_| "negative fKeylen".to_string())?)?;
            let n = c.i32()?;
            if n < 0 || n as usize > c.remaining() / 18 {
                return Err(format!(
                    "the list claims {n} keys in {} bytes",
                    c.remaining()
                ));
            }
            (0..n)
                .map(|_| read_key(&mut c))
                .collect::<Result<Vec<_>, _>>()
        })();
        let keys = parsed.map_err(|e| self.src.malformed(&what, e))?;
        for key in keys {
            let info = KeyInfo {
                name: format!("{prefix}{}", key.name),
                class_name: key.class_name.clone(),
                cycle: key.cycle as u16,
                title: key.title.clone(),
            };
            let is_dir = matches!(key.class_name.as_str(), "TDirectory" | "TDirectoryFile");
            let sub = format!("{}/", info.name);
            self.infos.push(info);
            self.keys.push(key.clone());
            if is_dir {
                let dwhat = format!("directory '{}'", sub.trim_end_matches('/'));
                let (data, _) = self
                    .src
                    .read_object(&key)
                    .map_err(|e| self.src.malformed(&dwhat, e))?;
                let rec = read_dir_record(&mut Cursor::new(&data, 0))
                    .map_err(|e| self.src.malformed(&dwhat, e))?;
                self.read_keys(rec.seek_keys, rec.nbytes_keys, &sub, depth + 1, visited)?;
            }
        }
        Ok(())
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.src.path
    }

    /// The ROOT version that wrote the file (e.g. 62006 for 6.20/06).
    pub fn root_version(&self) -> i32 {
        self.version % 1_000_000
    }

    /// All keys: those of the top directory and, as `dir/name`, those of
    /// subdirectories.
    pub fn keys(&self) -> &[KeyInfo] {
        &self.infos
    }

    /// Open the tree `name` (a path like `dir/name` for subdirectories; an
    /// explicit cycle may be given as `name;2`). Without a cycle, the highest
    /// cycle is used.
    pub fn tree(&self, name: &str) -> Result<Tree, RootError> {
        let (base, cycle) = match name.rsplit_once(';') {
            Some((b, c)) => match c.parse::<u16>() {
                Ok(c) => (b, Some(c)),
                Err(_) => (name, None),
            },
            None => (name, None),
        };
        let best = self
            .infos
            .iter()
            .enumerate()
            .filter(|(_, k)| k.name == base && k.class_name == "TTree")
            .filter(|(_, k)| cycle.is_none_or(|c| c == k.cycle))
            .max_by_key(|(_, k)| k.cycle)
            .map(|(i, _)| i);
        let Some(i) = best else {
            let available = if self.infos.is_empty() {
                "no objects at all".to_string()
            } else {
                let list: Vec<String> = self
                    .infos
                    .iter()
                    .map(|k| format!("{};{} ({})", k.name, k.cycle, k.class_name))
                    .collect();
                format!("these keys: {}", list.join(", "))
            };
            return Err(RootError::NoSuchTree {
                path: self.src.path.clone(),
                name: name.to_string(),
                available,
            });
        };
        let key = &self.keys[i];
        let what = format!(
            "TTree '{base}' (cycle {}, key at byte {})",
            key.cycle, key.seek_key
        );
        let (data, keylen) = self
            .src
            .read_object(key)
            .map_err(|e| self.src.malformed(&what, e))?;
        let raw = objects::read_ttree(&mut Cursor::new(&data, keylen))
            .map_err(|e| self.src.malformed(&what, e))?;
        Ok(Tree::new(Arc::clone(&self.src), base.to_string(), raw))
    }
}
