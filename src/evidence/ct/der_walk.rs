//! A minimal DER walker over raw bytes. It exists because rebuilding the
//! precertificate TBS must keep every byte of the certificate except the
//! SCT extension: decoding into typed structures and re-encoding could
//! normalise something the CA encoded differently, and x509-cert's TBS
//! fields are not meant to be edited. We only need single-byte tags and
//! definite lengths (DER), and we reject anything else.

use super::CtError;

fn err(reason: impl Into<String>) -> CtError {
    CtError::Certificate(reason.into())
}

/// One DER element inside a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u8,
    /// Offset of the tag byte.
    pub start: usize,
    /// Offset of the first content byte.
    pub content: usize,
    /// Offset one past the last content byte.
    pub end: usize,
}

impl Tlv {
    /// The whole element (tag, length, content).
    pub fn whole<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start..self.end]
    }
    /// The content bytes only.
    pub fn value<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.content..self.end]
    }
}

/// Reads the element starting at `pos`, which must end at or before `limit`.
pub fn read_tlv(buf: &[u8], pos: usize, limit: usize) -> Result<Tlv, CtError> {
    let limit = limit.min(buf.len());
    let byte = |i: usize| -> Result<u8, CtError> {
        if i < limit {
            Ok(buf[i])
        } else {
            Err(err(format!("DER truncated at offset {i}")))
        }
    };
    let tag = byte(pos)?;
    if tag & 0x1f == 0x1f {
        return Err(err(format!(
            "multi-byte DER tag at offset {pos} is not supported"
        )));
    }
    let first = byte(pos + 1)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2usize)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 {
            return Err(err(format!("indefinite length at offset {pos} (not DER)")));
        }
        if n > 4 {
            return Err(err(format!("length of {n} bytes at offset {pos}")));
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | byte(pos + 2 + i)? as usize;
        }
        // DER: minimal length encoding.
        if len < 0x80 || (n > 1 && len < (1usize << (8 * (n - 1)))) {
            return Err(err(format!("non-minimal length at offset {pos} (not DER)")));
        }
        (len, 2 + n)
    };
    let content = pos + header;
    let end = content
        .checked_add(len)
        .filter(|&e| e <= limit)
        .ok_or_else(|| err(format!("element at offset {pos} overruns its container")))?;
    Ok(Tlv {
        tag,
        start: pos,
        content,
        end,
    })
}

/// The elements directly inside a constructed element's content.
pub fn children(buf: &[u8], parent: &Tlv) -> Result<Vec<Tlv>, CtError> {
    let mut out = Vec::new();
    let mut pos = parent.content;
    while pos < parent.end {
        let t = read_tlv(buf, pos, parent.end)?;
        pos = t.end;
        out.push(t);
    }
    Ok(out)
}

/// Encodes a DER length.
pub fn encode_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Encodes `tag || len || content`.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    encode_len(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_in_minimal_form() {
        for len in [0usize, 1, 127, 128, 255, 256, 65535, 65536] {
            let enc = encode(0x04, &vec![0u8; len]);
            let t = read_tlv(&enc, 0, enc.len()).unwrap();
            assert_eq!(t.end - t.content, len);
            assert_eq!(t.end, enc.len());
        }
    }

    #[test]
    fn non_der_lengths_are_rejected() {
        // indefinite
        assert!(read_tlv(&[0x30, 0x80, 0, 0], 0, 4).is_err());
        // non-minimal: 0x81 0x05
        assert!(read_tlv(&[0x04, 0x81, 0x05, 0, 0, 0, 0, 0], 0, 8).is_err());
        // overrun
        assert!(read_tlv(&[0x04, 0x05, 0], 0, 3).is_err());
        // multi-byte tag
        assert!(read_tlv(&[0x1f, 0x01, 0x00], 0, 3).is_err());
    }
}
