//! ELF files as the probes see them: the identification, program and section headers read from
//! the bytes a probe kept, in the file's class (32 or 64 bits) and byte order, every offset
//! checked against what is there.

/// The ELF note type of a package note (systemd's package metadata).
pub const NOTE_TYPE: u32 = 0xcafe_1a7e;
pub const NOTE_OWNER: &[u8] = b"FDO\0";
/// The largest note description kept.
pub const MAX_DESCRIPTION: usize = 16 * 1024;
pub const PT_NOTE: u32 = 4;

/// The fields of an ELF header read here, in the file's class and byte order.
pub struct Elf<'a> {
    bytes: &'a [u8],
    wide: bool,
    little: bool,
}

impl<'a> Elf<'a> {
    pub fn of(bytes: &'a [u8]) -> Option<Elf<'a>> {
        let wide = match bytes.get(4)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let little = match bytes.get(5)? {
            1 => true,
            2 => false,
            _ => return None,
        };
        Some(Elf {
            bytes,
            wide,
            little,
        })
    }

    pub fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    pub fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    /// A word: 8 bytes in a 64-bit file, 4 in a 32-bit one.
    pub fn word(&self, at: usize) -> Option<usize> {
        if self.wide {
            let b: [u8; 8] = self.bytes.get(at..at + 8)?.try_into().ok()?;
            let v = if self.little {
                u64::from_le_bytes(b)
            } else {
                u64::from_be_bytes(b)
            };
            usize::try_from(v).ok()
        } else {
            self.u32(at).map(|v| v as usize)
        }
    }

    /// The size of the ELF header.
    pub fn header_size(&self) -> usize {
        if self.wide {
            64
        } else {
            52
        }
    }

    /// Where the program header table is and how it is laid out: (offset, entry size, count).
    pub fn program_headers(&self) -> Option<(usize, usize, usize)> {
        let (phoff, phentsize, phnum) = if self.wide {
            (self.word(0x20)?, self.u16(0x36)?, self.u16(0x38)?)
        } else {
            (self.word(0x1C)?, self.u16(0x2A)?, self.u16(0x2C)?)
        };
        Some((phoff, usize::from(phentsize), usize::from(phnum)))
    }

    /// The `PT_NOTE` segments, as (offset, size) in the file.
    pub fn note_segments(&self) -> Option<Vec<(usize, usize)>> {
        let (phoff, size, count) = self.program_headers()?;
        let mut found = Vec::new();
        for i in 0..count {
            let at = phoff.checked_add(i.checked_mul(size)?)?;
            if self.u32(at)? != PT_NOTE {
                continue;
            }
            let (offset, filesz) = if self.wide {
                (self.word(at + 8)?, self.word(at + 32)?)
            } else {
                (self.word(at + 4)?, self.word(at + 16)?)
            };
            found.push((offset, filesz));
        }
        Some(found)
    }

    /// The description of the package note among the notes at `offset..offset+size`.
    pub fn package_note(&self, offset: usize, size: usize) -> Option<&'a [u8]> {
        let end = offset.checked_add(size)?;
        let mut at = offset;
        while at + 12 <= end {
            let name_size = self.u32(at)? as usize;
            let desc_size = self.u32(at + 4)? as usize;
            let kind = self.u32(at + 8)?;
            let name_at = at + 12;
            let desc_at = name_at.checked_add(name_size.checked_next_multiple_of(4)?)?;
            let next = desc_at.checked_add(desc_size.checked_next_multiple_of(4)?)?;
            if next > end {
                return None;
            }
            if kind == NOTE_TYPE && self.bytes.get(name_at..name_at + name_size)? == NOTE_OWNER {
                let desc = self.bytes.get(desc_at..desc_at + desc_size)?;
                // The JSON is NUL-padded.
                let text = desc.split(|&b| b == 0).next().unwrap_or_default();
                return (text.len() <= MAX_DESCRIPTION).then_some(text);
            }
            at = next;
        }
        None
    }
}

impl<'a> Elf<'a> {
    /// The contents of the section named `name`, when the section headers and the section lie
    /// within the bytes held.
    pub fn section(&self, name: &str) -> Option<&'a [u8]> {
        let (shoff, entsize, count, names_index) = if self.wide {
            (
                self.word(0x28)?,
                usize::from(self.u16(0x3A)?),
                usize::from(self.u16(0x3C)?),
                usize::from(self.u16(0x3E)?),
            )
        } else {
            (
                self.word(0x20)?,
                usize::from(self.u16(0x2E)?),
                usize::from(self.u16(0x30)?),
                usize::from(self.u16(0x32)?),
            )
        };
        let header = |i: usize| shoff.checked_add(i.checked_mul(entsize)?);
        // (name offset, file offset, size) of section `i`.
        let section = |i: usize| -> Option<(usize, usize, usize)> {
            let at = header(i)?;
            let name = self.u32(at)? as usize;
            if self.wide {
                Some((name, self.word(at + 0x18)?, self.word(at + 0x20)?))
            } else {
                Some((name, self.word(at + 0x10)?, self.word(at + 0x14)?))
            }
        };
        let (_, names_at, names_size) = section(names_index)?;
        let names = self
            .bytes
            .get(names_at..names_at.checked_add(names_size)?)?;
        for i in 0..count.min(65_535) {
            let (name_at, offset, size) = section(i)?;
            let found = names.get(name_at..)?;
            let end = found.iter().position(|&b| b == 0)?;
            if &found[..end] == name.as_bytes() {
                return self.bytes.get(offset..offset.checked_add(size)?);
            }
        }
        None
    }
}
