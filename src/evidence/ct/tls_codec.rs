//! A bounds-checked reader and a writer for the TLS presentation language
//! encodings CT uses (RFC 8446 §3 / RFC 5246 §4): big-endian integers and
//! length-prefixed vectors. Every read returns an error instead of panicking.

use super::{decode_err, CtError};

/// Reads TLS-encoded values from a byte slice.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// `what` names the structure in error messages.
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    fn err(&self, reason: impl Into<String>) -> CtError {
        decode_err(self.what, reason)
    }

    /// Next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], CtError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| {
                self.err(format!(
                    "truncated: needs {n} bytes at offset {}, {} left",
                    self.pos,
                    self.buf.len().saturating_sub(self.pos)
                ))
            })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn uint(&mut self, n: usize) -> Result<u64, CtError> {
        let b = self.bytes(n)?;
        Ok(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    pub fn u8(&mut self) -> Result<u8, CtError> {
        Ok(self.bytes(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, CtError> {
        Ok(self.uint(2)? as u16)
    }
    pub fn u24(&mut self) -> Result<u32, CtError> {
        Ok(self.uint(3)? as u32)
    }
    pub fn u40(&mut self) -> Result<u64, CtError> {
        self.uint(5)
    }
    pub fn u64(&mut self) -> Result<u64, CtError> {
        self.uint(8)
    }

    /// A vector with a 1-byte length prefix.
    pub fn vec8(&mut self) -> Result<&'a [u8], CtError> {
        let n = self.u8()? as usize;
        self.bytes(n)
    }
    /// A vector with a 2-byte length prefix.
    pub fn vec16(&mut self) -> Result<&'a [u8], CtError> {
        let n = self.u16()? as usize;
        self.bytes(n)
    }
    /// A vector with a 3-byte length prefix.
    pub fn vec24(&mut self) -> Result<&'a [u8], CtError> {
        let n = self.u24()? as usize;
        self.bytes(n)
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Errors unless every byte was consumed.
    pub fn finish(&self) -> Result<(), CtError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err(format!(
                "{} trailing bytes after offset {}",
                self.buf.len() - self.pos,
                self.pos
            )))
        }
    }
}

/// Appends TLS-encoded values to a buffer. Writers are only used on values
/// we built or already bounded, so lengths that do not fit are an error.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Writer { buf: Vec::new() }
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u24(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes()[1..]);
        self
    }
    pub fn u40(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes()[3..]);
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }
    pub fn vec16(&mut self, b: &[u8]) -> Result<&mut Self, CtError> {
        let n = u16::try_from(b.len())
            .map_err(|_| decode_err("vector", format!("{} bytes do not fit u16", b.len())))?;
        self.u16(n);
        self.buf.extend_from_slice(b);
        Ok(self)
    }
    pub fn vec24(&mut self, b: &[u8]) -> Result<&mut Self, CtError> {
        if b.len() >= 1 << 24 {
            return Err(decode_err(
                "vector",
                format!("{} bytes do not fit u24", b.len()),
            ));
        }
        self.u24(b.len() as u32);
        self.buf.extend_from_slice(b);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reports_truncation_instead_of_panicking() {
        let mut r = Reader::new(&[0, 5, 1, 2], "t");
        assert!(r.vec16().is_err());
        let mut r = Reader::new(&[0xff; 3], "t");
        assert!(r.u64().is_err());
        assert!(Reader::new(&[], "t").u8().is_err());
    }

    #[test]
    fn writer_and_reader_round_trip() {
        let mut w = Writer::new();
        w.u8(1).u16(2).u24(3).u40(0x01_0203_0405).u64(5);
        w.vec16(b"ab").unwrap();
        w.vec24(b"xyz").unwrap();
        let mut r = Reader::new(&w.buf, "t");
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 2);
        assert_eq!(r.u24().unwrap(), 3);
        assert_eq!(r.u40().unwrap(), 0x01_0203_0405);
        assert_eq!(r.u64().unwrap(), 5);
        assert_eq!(r.vec16().unwrap(), b"ab");
        assert_eq!(r.vec24().unwrap(), b"xyz");
        r.finish().unwrap();
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut r = Reader::new(&[1, 2], "t");
        r.u8().unwrap();
        assert!(r.finish().is_err());
    }
}
