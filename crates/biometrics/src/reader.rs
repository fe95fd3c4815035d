//! A big-endian cursor over a standard record that names the part it could not read: the one
//! reader both ISO record parsers use.

/// `part` was cut short; each record's error type turns this into its own variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cut(pub &'static str);

/// Reads fields in order, never past the end.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Starts at the first byte.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }
    /// Bytes read so far.
    pub(crate) fn position(&self) -> usize {
        self.at
    }
    /// Everything not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }
    pub(crate) fn take(&mut self, n: usize, part: &'static str) -> Result<&'a [u8], Cut> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(Cut(part))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    pub(crate) fn u8(&mut self, part: &'static str) -> Result<u8, Cut> {
        Ok(self.take(1, part)?[0])
    }
    pub(crate) fn u16(&mut self, part: &'static str) -> Result<u16, Cut> {
        let b = self.take(2, part)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    pub(crate) fn u32(&mut self, part: &'static str) -> Result<u32, Cut> {
        let b = self.take(4, part)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}
