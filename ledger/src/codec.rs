//! Canonical, bounded binary encoding.
//!
//! Every signed or hashed object has exactly one encoding: big-endian fixed-width integers, `u32`
//! length prefixes, one-byte tags for enums and options, and no trailing bytes. The decoder checks
//! each length against the bytes that remain and against a per-field bound *before* allocating, so
//! arbitrary input costs at most its own size in memory and never panics.

use crate::error::{Error, Result};

/// Largest encoded transaction accepted from the network or a file.
pub const MAX_TX_BYTES: usize = 256 * 1024;
/// Bound on identifier strings (DID ids, data set ids, grant ids, job ids, names).
pub const MAX_ID_LEN: usize = 128;
/// Bound on list lengths (participants, inputs, approvals, keys) inside one object.
pub const MAX_LIST: usize = 256;

/// Appends canonical encodings to a byte vector.
#[derive(Default, Debug)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }
    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    /// Big-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// `0` or `1`.
    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }
    /// Fixed-size bytes, no prefix (the decoder knows the size).
    pub fn raw(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    /// Length-prefixed bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        // Lengths beyond u32 never occur: every decoder bound is far below 4 GiB.
        self.len(v.len());
        self.buf.extend_from_slice(v);
    }
    /// Length-prefixed UTF-8.
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    /// A list or byte length as `u32` (saturating; decoders reject anything that large).
    pub fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    /// A list: its length, then each element.
    pub fn list<T: Encode>(&mut self, items: &[T]) {
        self.len(items.len());
        for item in items {
            item.encode(self);
        }
    }
    /// An option: tag `0`, or tag `1` then the value.
    pub fn option<T: Encode>(&mut self, v: Option<&T>) {
        match v {
            None => self.u8(0),
            Some(x) => {
                self.u8(1);
                x.encode(self);
            }
        }
    }
}

/// Reads canonical encodings from a byte slice, checking every bound.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }
    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<()> {
        if self.remaining() == 0 { Ok(()) } else { Err(Error::Malformed("trailing bytes")) }
    }
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(Error::Malformed("length overflow"))?;
        let out = self.data.get(self.pos..end).ok_or(Error::Malformed("truncated"))?;
        self.pos = end;
        Ok(out)
    }
    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    /// Big-endian `u16`.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    /// Big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    /// Big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    /// A boolean that must be `0` or `1`.
    pub fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::Malformed("boolean not 0 or 1")),
        }
    }
    /// A length prefix no larger than `max` nor than the bytes left (each element takes at least
    /// one byte), so a caller may allocate `len` elements safely.
    pub fn len(&mut self, max: usize) -> Result<usize> {
        let n = usize::try_from(self.u32()?).map_err(|_| Error::Malformed("length overflow"))?;
        if n > max {
            return Err(Error::Malformed("length above bound"));
        }
        if n > self.remaining() {
            return Err(Error::Malformed("length beyond input"));
        }
        Ok(n)
    }
    /// Length-prefixed bytes of at most `max`.
    pub fn bytes(&mut self, max: usize) -> Result<Vec<u8>> {
        let n = self.len(max)?;
        Ok(self.take(n)?.to_vec())
    }
    /// Length-prefixed UTF-8 of at most `max` bytes.
    pub fn string(&mut self, max: usize) -> Result<String> {
        String::from_utf8(self.bytes(max)?).map_err(|_| Error::Malformed("invalid UTF-8"))
    }
    /// A list of at most `max` elements.
    pub fn list<T: Decode>(&mut self, max: usize) -> Result<Vec<T>> {
        let n = self.len(max)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::decode(self)?);
        }
        Ok(out)
    }
    /// An option written by [`Writer::option`].
    pub fn option<T: Decode>(&mut self) -> Result<Option<T>> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(self)?)),
            _ => Err(Error::Malformed("option tag")),
        }
    }
}

/// Types with one canonical encoding.
pub trait Encode {
    /// Appends the encoding.
    fn encode(&self, w: &mut Writer);
    /// The encoding as a fresh vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.into_bytes()
    }
}

/// Types decodable from their canonical encoding; decoding never panics.
pub trait Decode: Sized {
    /// Reads one value.
    fn decode(r: &mut Reader<'_>) -> Result<Self>;
    /// Decodes a whole buffer, rejecting trailing bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let v = Self::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

impl Encode for [u8; 32] {
    fn encode(&self, w: &mut Writer) {
        w.raw(self);
    }
}

impl Decode for [u8; 32] {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.array()
    }
}

impl Encode for String {
    fn encode(&self, w: &mut Writer) {
        w.str(self);
    }
}

impl Decode for String {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.string(MAX_ID_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bounds() {
        let mut w = Writer::new();
        w.u64(7);
        w.str("abc");
        w.bool(true);
        let b = w.into_bytes();
        let mut r = Reader::new(&b);
        assert_eq!(r.u64().unwrap(), 7);
        assert_eq!(r.string(3).unwrap(), "abc");
        assert!(r.bool().unwrap());
        r.finish().unwrap();

        let mut r = Reader::new(&b[8..]);
        assert!(matches!(r.string(2), Err(Error::Malformed(_))));
        // A length claiming more bytes than exist is refused before allocation.
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0x00]);
        assert!(r.bytes(usize::MAX).is_err());
        assert!(Reader::new(&[2]).bool().is_err());
    }
}
