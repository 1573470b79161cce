//! ROOT compressed records: a sequence of blocks, each with a 9-byte header.
//!
//! Header: 2-byte algorithm tag (`ZL` zlib, `XZ` xz/lzma, `L4` lz4 with an
//! 8-byte xxhash64 checksum before the payload, `ZS` zstd, `CS` the old ROOT
//! algorithm, which is refused), 1 method byte, 3-byte little-endian
//! compressed size and 3-byte little-endian uncompressed size.
//!
//! zlib (adler32), LZ4 (xxhash64) and xz (CRC) data carry checksums, all
//! verified. ROOT writes ZSTD frames without their optional checksum, so a
//! corrupted ZSTD block that still decodes cannot be detected.

use std::io::{Read, Write};

use super::cursor::PResult;

/// Size of a block header.
pub(crate) const HEADER_LEN: usize = 9;

/// Decompress a ROOT record body of `objlen` uncompressed bytes.
///
/// The caller bounds `objlen` (allocation is by block, at most 16 MiB each).
pub(crate) fn decompress(src: &[u8], objlen: usize) -> PResult<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(objlen.min(64 << 20));
    let mut pos = 0usize;
    let mut block = 0usize;
    while out.len() < objlen {
        let hdr = src.get(pos..pos + HEADER_LEN).ok_or_else(|| {
            format!(
                "compressed data ends after {} of {objlen} uncompressed bytes (block {block} header at byte {pos} of {})",
                out.len(),
                src.len()
            )
        })?;
        let tag = [hdr[0], hdr[1]];
        let csize = usize::from(hdr[3]) | usize::from(hdr[4]) << 8 | usize::from(hdr[5]) << 16;
        let usize_ = usize::from(hdr[6]) | usize::from(hdr[7]) << 8 | usize::from(hdr[8]) << 16;
        pos += HEADER_LEN;
        let payload = src.get(pos..pos + csize).ok_or_else(|| {
            format!(
                "block {block} claims {csize} compressed bytes but only {} remain",
                src.len().saturating_sub(pos)
            )
        })?;
        pos += csize;
        if usize_ > objlen - out.len() {
            return Err(format!(
                "block {block} claims {usize_} uncompressed bytes, more than the {} still expected",
                objlen - out.len()
            ));
        }
        let before = out.len();
        match &tag {
            b"ZL" => {
                let mut dec = flate2::read::ZlibDecoder::new(payload).take(usize_ as u64 + 1);
                dec.read_to_end(&mut out)
                    .map_err(|e| format!("zlib block {block}: {e}"))?;
            }
            b"XZ" => {
                let mut w = LimitedWriter {
                    out: &mut out,
                    limit: before + usize_,
                };
                lzma_rs::xz_decompress(&mut std::io::Cursor::new(payload), &mut w)
                    .map_err(|e| format!("xz block {block}: {e}"))?;
            }
            b"L4" => {
                // An 8-byte big-endian xxhash64 of the LZ4 data comes first.
                let (sum, data) = payload
                    .split_first_chunk::<8>()
                    .ok_or_else(|| format!("lz4 block {block} is shorter than its checksum"))?;
                let want = u64::from_be_bytes(*sum);
                let got = xxhash_rust::xxh64::xxh64(data, 0);
                if got != want {
                    return Err(format!(
                        "lz4 block {block}: checksum mismatch (stored {want:016x}, computed {got:016x}): the data are corrupted"
                    ));
                }
                let v = lz4_flex::block::decompress(data, usize_)
                    .map_err(|e| format!("lz4 block {block}: {e}"))?;
                out.extend_from_slice(&v);
            }
            b"ZS" => {
                let v = zstd::bulk::decompress(payload, usize_)
                    .map_err(|e| format!("zstd block {block}: {e}"))?;
                out.extend_from_slice(&v);
            }
            b"CS" => {
                return Err(
                    "block uses ROOT's old 'CS' compression algorithm (pre-2006 files), which this reader does not implement"
                        .to_string(),
                );
            }
            _ => {
                return Err(format!(
                    "block {block} has unknown compression tag {:?} (expected ZL, XZ, L4 or ZS)",
                    String::from_utf8_lossy(&tag)
                ));
            }
        }
        if out.len() - before != usize_ {
            return Err(format!(
                "block {block} decompressed to {} bytes, its header says {usize_}",
                out.len() - before
            ));
        }
        block += 1;
    }
    Ok(out)
}

/// A writer that refuses to grow past `limit` bytes (guards against xz bombs).
struct LimitedWriter<'a> {
    out: &'a mut Vec<u8>,
    limit: usize,
}

impl Write for LimitedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.limit {
            return Err(std::io::Error::other(
                "decompressed data exceed the size in the block header",
            ));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(tag: &[u8; 2], payload: &[u8], usize_: usize) -> Vec<u8> {
        let c = payload.len();
        let mut v = vec![tag[0], tag[1], 8];
        v.extend_from_slice(&[c as u8, (c >> 8) as u8, (c >> 16) as u8]);
        v.extend_from_slice(&[usize_ as u8, (usize_ >> 8) as u8, (usize_ >> 16) as u8]);
        v.extend_from_slice(payload);
        v
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 13) as u8).collect()
    }

    #[test]
    fn zlib_two_blocks() {
        let d = data(5000);
        let mut src = Vec::new();
        for part in [&d[..3000], &d[3000..]] {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
            e.write_all(part).unwrap();
            src.extend(block(b"ZL", &e.finish().unwrap(), part.len()));
        }
        assert_eq!(decompress(&src, 5000).unwrap(), d);
        // claiming more than is there
        assert!(decompress(&src, 6000).is_err());
        // truncated
        assert!(decompress(&src[..src.len() - 3], 5000).is_err());
    }

    #[test]
    fn lz4_zstd_xz() {
        let d = data(4000);
        let c = lz4_flex::block::compress(&d);
        let mut p = xxhash_rust::xxh64::xxh64(&c, 0).to_be_bytes().to_vec();
        p.extend(&c);
        assert_eq!(decompress(&block(b"L4", &p, 4000), 4000).unwrap(), d);
        // A changed byte that still decodes is caught by the checksum.
        let mut bad = p.clone();
        *bad.last_mut().unwrap() ^= 1;
        let e = decompress(&block(b"L4", &bad, 4000), 4000).unwrap_err();
        assert!(e.contains("checksum"), "{e}");
        let z = zstd::bulk::compress(&d, 3).unwrap();
        assert_eq!(decompress(&block(b"ZS", &z, 4000), 4000).unwrap(), d);
        let mut x = Vec::new();
        lzma_rs::xz_compress(&mut std::io::Cursor::new(&d), &mut x).unwrap();
        assert_eq!(decompress(&block(b"XZ", &x, 4000), 4000).unwrap(), d);
        // xz block that lies about its size
        assert!(decompress(&block(b"XZ", &x, 100), 100).is_err());
    }

    #[test]
    fn refuses_cs_unknown_and_garbage() {
        let e = decompress(&block(b"CS", &[1, 2, 3], 10), 10).unwrap_err();
        assert!(e.contains("CS"), "{e}");
        assert!(decompress(&block(b"QQ", &[1, 2, 3], 10), 10).is_err());
        assert!(decompress(&block(b"ZL", &[1, 2, 3, 4, 5], 10), 10).is_err());
        assert!(decompress(&block(b"L4", &[1, 2, 3], 10), 10).is_err());
        assert!(decompress(&block(b"ZS", &[1, 2, 3], 10), 10).is_err());
        assert!(decompress(&[], 10).is_err());
    }
}
