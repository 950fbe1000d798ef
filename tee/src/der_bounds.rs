//! A pre-parse of untrusted DER: every element's declared length must fit inside its parent.
//!
//! The `der` crate (0.7) allocates a value's declared length before it checks that the nested
//! reader has that many bytes left, so a 2.5 KB certificate announcing a 64 MiB attribute made
//! one 64 MiB allocation (found by the `tee_evidence` fuzz target). Walking the TLV headers
//! first bounds every later allocation by the input's own size. Only the framing is checked
//! here (definite lengths of at most four bytes, nesting depth); the parser checks the rest.

/// Deepest nesting accepted (X.509 certificates nest about ten levels).
const MAX_DEPTH: usize = 32;

/// Checks that `der` is one DER element (with no trailing bytes) whose nested elements' lengths
/// all fit inside their parents.
pub(crate) fn check(der: &[u8]) -> Result<(), &'static str> {
    let rest = element(der, 0)?;
    if rest.is_empty() { Ok(()) } else { Err("trailing bytes after the DER element") }
}

/// Checks one element at the start of `input`; returns what follows it.
fn element(input: &[u8], depth: usize) -> Result<&[u8], &'static str> {
    if depth > MAX_DEPTH {
        return Err("DER nested too deeply");
    }
    let (&tag, mut rest) = input.split_first().ok_or("truncated DER tag")?;
    if tag & 0x1f == 0x1f {
        // High tag number: base-128 continuation bytes, at most four.
        let mut n = 0;
        loop {
            let (&b, r) = rest.split_first().ok_or("truncated DER tag")?;
            rest = r;
            n += 1;
            if b & 0x80 == 0 {
                break;
            }
            if n == 4 {
                return Err("DER tag number too long");
            }
        }
    }
    let (&first, r) = rest.split_first().ok_or("truncated DER length")?;
    rest = r;
    let len = match first {
        0..=0x7f => usize::from(first),
        0x80 => return Err("indefinite length (not DER)"),
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            let (bytes, r) = rest.split_at_checked(n).ok_or("truncated DER length")?;
            rest = r;
            bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        }
        _ => return Err("DER length longer than four bytes"),
    };
    let (content, after) = rest.split_at_checked(len).ok_or("DER length beyond its parent")?;
    if tag & 0x20 != 0 {
        let mut inner = content;
        while !inner.is_empty() {
            inner = element(inner, depth + 1)?;
        }
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn well_formed_nesting_passes() {
        // SEQUENCE { INTEGER 5, SEQUENCE { OCTET STRING "ab" } }
        assert_eq!(
            check(&[0x30, 0x09, 0x02, 0x01, 0x05, 0x30, 0x04, 0x04, 0x02, b'a', b'b']),
            Ok(())
        );
        // A long-form length.
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0u8; 0x80]);
        assert_eq!(check(&long), Ok(()));
    }

    #[test]
    fn a_length_beyond_its_parent_is_refused() {
        // An inner OCTET STRING announcing 64 MiB inside a 6-byte SEQUENCE.
        let bad = [0x30, 0x06, 0x04, 0x84, 0x04, 0x00, 0x00, 0x00];
        assert!(check(&bad).is_err());
        // Outer length beyond the input.
        assert!(check(&[0x30, 0x05, 0x02, 0x01, 0x00]).is_err());
        assert!(check(&[0x30, 0x80, 0x00, 0x00]).is_err());
        assert!(check(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_err());
        assert!(check(&[0x02, 0x01, 0x00, 0xff]).is_err());
        assert!(check(&[]).is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut der = vec![0x05, 0x00];
        for _ in 0..40 {
            let len = der.len();
            let mut outer = vec![0x30, 0x82, (len >> 8) as u8, len as u8];
            outer.extend(der);
            der = outer;
        }
        assert!(check(&der).is_err());
    }
}
