//! A layer stream hashed on the thread that reads it while the layer pass parses it on another:
//! every byte must be hashed (the diffID is checked), and hashing alone costs about as much as the
//! whole parse, so the two overlap instead of taking turns. The bytes cross in a few fixed-size
//! buffers that go back and forth (memory is bounded whatever the layer); the parser skips file
//! contents it does not want by dropping them from the buffer it holds, already hashed.

use sha2::{Digest, Sha256};
use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// The size of each buffer crossing between the threads.
const CHUNK: usize = 1024 * 1024;
/// Buffers in flight: what the parser may lag behind the reader.
const IN_FLIGHT: usize = 3;

/// Reads `source` to its end on this thread, hashing every byte, while `parse` reads the same bytes
/// on another (it may stop early; what it leaves is still hashed). Returns what `parse` returned
/// (a read error reaches it where the stream broke), and the stream's `sha256:<hex>` and length, or
/// the read error.
pub fn hash_while<R, T, F>(mut source: R, parse: F) -> (T, io::Result<(String, u64)>)
where
    R: Read,
    T: Send,
    F: FnOnce(&mut PipeReader) -> T + Send,
{
    let (full_tx, full_rx) = sync_channel::<io::Result<Vec<u8>>>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
    std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            let mut reader = PipeReader {
                full: full_rx,
                empty: empty_tx,
                chunk: Vec::new(),
                at: 0,
                ended: false,
                position: 0,
            };
            parse(&mut reader)
        });
        let mut hasher = Sha256::new();
        let mut length = 0u64;
        // Once the parser is done (or gone), the rest is only hashed.
        let mut parser_reading = true;
        let mut spare = vec![0u8; CHUNK];
        let read_error = loop {
            let mut buffer = if parser_reading {
                empty_rx.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK])
            } else {
                std::mem::take(&mut spare)
            };
            buffer.resize(CHUNK, 0);
            let n = match read_full(&mut source, &mut buffer) {
                Ok(n) => n,
                Err(e) => break Some(e),
            };
            hasher.update(&buffer[..n]);
            length += n as u64;
            if n == 0 {
                break None;
            }
            if parser_reading {
                buffer.truncate(n);
                parser_reading = full_tx.send(Ok(buffer)).is_ok();
            } else {
                spare = buffer;
            }
        };
        let failed = read_error
            .as_ref()
            .map(|e| io::Error::new(e.kind(), e.to_string()));
        if let (Some(e), true) = (failed, parser_reading) {
            let _ = full_tx.send(Err(e));
        }
        drop(full_tx);
        // A panic in the parser is the parser's: it goes on up as it was.
        let parsed = parser
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let hashed = match read_error {
            Some(e) => Err(e),
            None => Ok((crate::oci::digest::finished(hasher), length)),
        };
        (parsed, hashed)
    })
}

/// Fills `buffer` as far as the source allows (short reads are joined, so that each buffer sent is
/// full but the last); returns how many bytes it holds.
fn read_full<R: Read>(source: &mut R, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The parser's end of the pipe: the stream as [`BufRead`], with forward seeks that drop bytes.
pub struct PipeReader {
    full: Receiver<io::Result<Vec<u8>>>,
    empty: SyncSender<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
    ended: bool,
    position: u64,
}

impl BufRead for PipeReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at == self.chunk.len() && !self.ended {
            match self.full.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.chunk, next);
                    self.at = 0;
                    // Back to the reader for reuse; if it has enough, this one is dropped.
                    let _ = self.empty.try_send(used);
                }
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                Err(_) => self.ended = true,
            }
        }
        Ok(&self.chunk[self.at..])
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.chunk.len() - self.at);
        self.at += amount;
        self.position += amount as u64;
    }
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// Only forward moves from the current position: what the tar reader needs to skip entry contents.
impl Seek for PipeReader {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        let SeekFrom::Current(forward) = position else {
            return Err(unsupported());
        };
        let Ok(mut left) = u64::try_from(forward) else {
            return Err(unsupported());
        };
        while left > 0 {
            let available = self.fill_buf()?.len();
            if available == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the stream ends inside an entry",
                ));
            }
            let take = available.min(usize::try_from(left).unwrap_or(usize::MAX));
            self.consume(take);
            left -= take as u64;
        }
        Ok(self.position)
    }
}

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "a layer stream only moves forward",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn the_parser_reads_what_is_hashed() {
        for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 17] {
            let bytes = data(n);
            let (read, hashed) = hash_while(&bytes[..], |r| {
                let mut out = Vec::new();
                r.read_to_end(&mut out).map(|_| out)
            });
            let (digest, length) = hashed.unwrap();
            assert_eq!(read.unwrap(), bytes, "{n}");
            assert_eq!(digest, crate::oci::digest::sha256_digest(&bytes));
            assert_eq!(length, n as u64);
        }
    }

    /// The parser may skip forward and stop early; the whole stream is still hashed.
    #[test]
    fn skipping_and_stopping_early_still_hash_everything() {
        let bytes = data(9 * CHUNK + 5);
        let (first, digest) = hash_while(&bytes[..], |r| {
            r.seek(SeekFrom::Current(CHUNK as i64 + 3)).unwrap();
            let mut one = [0u8; 1];
            r.read_exact(&mut one).unwrap();
            assert!(r.seek(SeekFrom::Start(0)).is_err());
            assert!(r.seek(SeekFrom::Current(-1)).is_err());
            one[0]
        });
        let (digest, length) = digest.unwrap();
        assert_eq!(first, bytes[CHUNK + 3]);
        assert_eq!(digest, crate::oci::digest::sha256_digest(&bytes));
        assert_eq!(length, bytes.len() as u64);
        let (past_end, _) = hash_while(&bytes[..10], |r| {
            r.seek(SeekFrom::Current(11)).unwrap_err().kind()
        });
        assert_eq!(past_end, io::ErrorKind::UnexpectedEof);
    }

    /// A source that fails: the parser sees the error where the stream broke, and so does the caller.
    #[test]
    fn read_errors_reach_both_ends() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = buf.len().min(self.0);
                buf[..n].fill(7);
                self.0 -= n;
                Ok(n)
            }
        }
        let (parsed, hashed) = hash_while(Failing(3 * CHUNK + 1), |r| {
            let mut out = Vec::new();
            r.read_to_end(&mut out).map_err(|e| e.to_string())
        });
        assert!(parsed.unwrap_err().contains("disk on fire"));
        let error = hashed.unwrap_err();
        assert!(error.to_string().contains("disk on fire"), "{error}");
    }
}
