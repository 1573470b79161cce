//! Bounds-checked big-endian reading of ROOT serialised buffers.

/// Result of low-level parsing; the message is wrapped with file context later.
pub(crate) type PResult<T> = Result<T, String>;

/// A read position in a byte buffer. All reads are bounds-checked.
///
/// `origin` is the number of bytes that preceded `buf[0]` in ROOT's own
/// buffer (the key length for objects read from a key), so that
/// [`Cursor::displacement`] matches the offsets ROOT uses for object and class
/// references.
#[derive(Clone, Debug)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    origin: usize,
}

macro_rules! be_reader {
    ($name:ident, $ty:ty, $n:expr) => {
        pub(crate) fn $name(&mut self) -> PResult<$ty> {
            let b = self.bytes($n)?;
            let mut a = [0u8; $n];
            a.copy_from_slice(b);
            Ok(<$ty>::from_be_bytes(a))
        }
    };
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`, whose first byte is `origin` bytes into
    /// ROOT's buffer.
    pub(crate) fn new(buf: &'a [u8], origin: usize) -> Self {
        Cursor {
            buf,
            pos: 0,
            origin,
        }
    }

    /// Current position in `buf`.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Position as ROOT counts it (including the origin).
    pub(crate) fn displacement(&self) -> usize {
        self.pos.saturating_add(self.origin)
    }

    /// Length of the underlying buffer.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Bytes left after the current position.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Move to an absolute position (at most the buffer length).
    pub(crate) fn set_pos(&mut self, pos: usize) -> PResult<()> {
        if pos > self.buf.len() {
            return Err(format!(
                "position {pos} is past the end of a {}-byte buffer",
                self.buf.len()
            ));
        }
        self.pos = pos;
        Ok(())
    }

    /// Take `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> PResult<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(format!(
                "needed {n} bytes at position {} but the buffer has only {} bytes",
                self.pos,
                self.buf.len()
            )),
        }
    }

    /// Skip `n` bytes.
    pub(crate) fn skip(&mut self, n: usize) -> PResult<()> {
        self.bytes(n).map(|_| ())
    }

    be_reader!(u8, u8, 1);
    be_reader!(i16, i16, 2);
    be_reader!(i32, i32, 4);
    be_reader!(u32, u32, 4);
    be_reader!(i64, i64, 8);

    /// A ROOT `TString`: one length byte, or 255 followed by a 4-byte length.
    pub(crate) fn tstring(&mut self) -> PResult<String> {
        let short = self.u8()?;
        let n = if short == 255 {
            self.u32()? as usize
        } else {
            short as usize
        };
        let b = self.bytes(n)?;
        Ok(String::from_utf8_lossy(b).into_owned())
    }

    /// A NUL-terminated C string (class names in class tags).
    pub(crate) fn cstring(&mut self) -> PResult<String> {
        let rest = &self.buf[self.pos.min(self.buf.len())..];
        match rest.iter().position(|&b| b == 0) {
            Some(n) => {
                let s = String::from_utf8_lossy(&rest[..n]).into_owned();
                self.pos += n + 1;
                Ok(s)
            }
            None => Err(format!(
                "unterminated class name at position {} of a {}-byte buffer",
                self.pos,
                self.buf.len()
            )),
        }
    }

    /// Read `n` big-endian `i32`s, checking the length before allocating.
    pub(crate) fn i32_array(&mut self, n: usize) -> PResult<Vec<i32>> {
        let b = self.bytes(n.checked_mul(4).ok_or("array length overflows")?)?;
        Ok(b.chunks_exact(4)
            .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// Read `n` big-endian `i64`s, checking the length before allocating.
    pub(crate) fn i64_array(&mut self, n: usize) -> PResult<Vec<i64>> {
        let b = self.bytes(n.checked_mul(8).ok_or("array length overflows")?)?;
        Ok(b.chunks_exact(8)
            .map(|c| i64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_and_checks_bounds() {
        let buf = [0u8, 1, 0xff, 0xfe, 0, 0, 0, 7];
        let mut c = Cursor::new(&buf, 10);
        assert_eq!(c.i16().unwrap(), 1);
        assert_eq!(c.i16().unwrap(), -2);
        assert_eq!(c.displacement(), 14);
        assert_eq!(c.u32().unwrap(), 7);
        assert!(c.u8().is_err());
        assert!(c.set_pos(9).is_err());
        c.set_pos(0).unwrap();
        assert!(c.i64_array(2).is_err());
        assert!(c.i32_array(usize::MAX).is_err());
        assert_eq!(c.i32_array(2).unwrap(), vec![0x0001fffe, 7]);
    }

    #[test]
    fn strings() {
        let mut buf = vec![3u8, b'a', b'b', b'c', b'X', b'y', 0];
        let mut c = Cursor::new(&buf, 0);
        assert_eq!(c.tstring().unwrap(), "abc");
        assert_eq!(c.cstring().unwrap(), "Xy");
        assert!(c.tstring().is_err());
        // long form
        buf = vec![255, 0, 0, 1, 0];
        buf.extend(std::iter::repeat_n(b'z', 256));
        let mut c = Cursor::new(&buf, 0);
        assert_eq!(c.tstring().unwrap().len(), 256);
        // truncated long form
        let mut c = Cursor::new(&buf[..100], 0);
        assert!(c.tstring().is_err());
        // unterminated C string
        let mut c = Cursor::new(b"abc", 0);
        assert!(c.cstring().is_err());
    }
}
