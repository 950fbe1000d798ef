//! The mutation engine: a seeded PRG mutator over a corpus that starts from real encodings.
//!
//! There is no coverage instrumentation on stable Rust, so the corpus grows on two cheaper
//! signals: an input the decoder *accepts* (a new valid value), and an input rejected with an
//! error message not seen before (digits blanked, so lengths and offsets do not count as new).
//! A new error message is a new rejection path, which is the coverage a decoder mostly has.
//! Mutations are AFL's havoc set: bit flips, interesting bytes and integers (both endians, so
//! length prefixes get 0, 1, `len ± 1`, `2^31`, `u32::MAX`), inserts, deletes, duplicated
//! blocks, splices with other corpus entries and dictionary tokens.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::alloc_track;
use crate::target::{Target, Verdict};

/// A small, fast, seeded PRG (SplitMix64): the runs are reproducible from their seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; 0 when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

const INTERESTING_8: [u8; 9] = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 16, 32];
const INTERESTING_32: [u32; 10] =
    [0, 1, 2, 0x7f, 0x80, 0xff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];

/// Applies one to eight stacked mutations to `data`, keeping it at most `max_len` bytes.
pub fn mutate(
    data: &mut Vec<u8>,
    rng: &mut Rng,
    corpus: &[Vec<u8>],
    dict: &[&[u8]],
    max_len: usize,
) {
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        mutate_once(data, rng, corpus, dict);
    }
    data.truncate(max_len);
}

fn mutate_once(data: &mut Vec<u8>, rng: &mut Rng, corpus: &[Vec<u8>], dict: &[&[u8]]) {
    let len = data.len();
    match rng.below(13) {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = rng.next_u64() as u8;
        }
        2 if len > 0 => {
            let i = rng.below(len);
            data[i] = INTERESTING_8[rng.below(INTERESTING_8.len())];
        }
        3 if len > 0 => {
            let i = rng.below(len);
            let delta = 1 + rng.below(16) as u8;
            data[i] = if rng.one_in(2) {
                data[i].wrapping_add(delta)
            } else {
                data[i].wrapping_sub(delta)
            };
        }
        4 if len >= 4 => {
            // An interesting 32-bit value (a length prefix, most often) at a random offset.
            let i = rng.below(len - 3);
            let near = [len as u32, (len as u32).wrapping_sub(1), (len as u32).wrapping_add(1)];
            let v = if rng.one_in(3) {
                near[rng.below(3)].wrapping_sub(i as u32)
            } else {
                INTERESTING_32[rng.below(INTERESTING_32.len())]
            };
            let b = if rng.one_in(2) { v.to_le_bytes() } else { v.to_be_bytes() };
            data[i..i + 4].copy_from_slice(&b);
        }
        5 if len >= 2 => {
            let i = rng.below(len - 1);
            let v = INTERESTING_32[rng.below(INTERESTING_32.len())] as u16;
            let b = if rng.one_in(2) { v.to_le_bytes() } else { v.to_be_bytes() };
            data[i..i + 2].copy_from_slice(&b);
        }
        6 => {
            let at = rng.below(len + 1);
            let k = 1 + rng.below(16);
            let bytes: Vec<u8> = (0..k).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, bytes);
        }
        7 if len > 0 => {
            let at = rng.below(len);
            let k = 1 + rng.below((len - at).min(64));
            data.drain(at..at + k);
        }
        8 if len > 0 => {
            // Duplicate a block somewhere else.
            let from = rng.below(len);
            let k = 1 + rng.below((len - from).min(128));
            let block = data[from..from + k].to_vec();
            let at = rng.below(len + 1);
            data.splice(at..at, block);
        }
        9 if len > 0 => data.truncate(rng.below(len)),
        10 if !corpus.is_empty() => {
            // Splice: our prefix, another entry's suffix.
            let other = &corpus[rng.below(corpus.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        11 if !corpus.is_empty() && len > 0 => {
            // Overwrite a block with the same offsets of another entry.
            let other = &corpus[rng.below(corpus.len())];
            let at = rng.below(len);
            let k = (len - at).min(other.len().saturating_sub(at)).min(1 + rng.below(64));
            if k > 0 {
                data[at..at + k].copy_from_slice(&other[at..at + k]);
            }
        }
        12 if !dict.is_empty() => {
            let token = dict[rng.below(dict.len())];
            let at = rng.below(len + 1);
            if rng.one_in(2) || len < token.len() {
                data.splice(at..at, token.iter().copied());
            } else {
                let at = at.min(len - token.len());
                data[at..at + token.len()].copy_from_slice(token);
            }
        }
        _ => {
            let i = rng.below(len + 1);
            data.insert(i, rng.next_u64() as u8);
        }
    }
}

/// How long a run may go: whichever limit comes first.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Most executions.
    pub execs: u64,
    /// Most wall time.
    pub time: Duration,
}

/// An input that broke a property: a panic, a failed assertion or an allocation over the cap.
#[derive(Clone, Debug)]
pub struct Finding {
    /// What went wrong (the panic message).
    pub message: String,
    /// The input, to replay and to turn into a regression test.
    pub input: Vec<u8>,
}

/// What one run of one target did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Inputs executed (seeds included).
    pub execs: u64,
    /// Inputs the decoder accepted.
    pub accepted: u64,
    /// Corpus size at the end.
    pub corpus: usize,
    /// Distinct rejection messages seen.
    pub rejection_kinds: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Distinct findings (one per message), each with its first input.
    pub findings: Vec<Finding>,
    /// Largest single allocation any input caused, in bytes.
    pub peak_alloc: usize,
}

/// Largest corpus kept in memory; beyond it only findings are recorded.
const MAX_CORPUS: usize = 4096;

/// Runs one input through `target`, turning a panic or an allocation over the cap into a
/// finding; `Ok` carries the verdict and the largest single allocation it made.
pub fn execute(target: &Target, input: &[u8]) -> Result<(Verdict, usize), String> {
    crate::panic_capture::reset();
    alloc_track::reset_peak();
    let outcome = catch_unwind(AssertUnwindSafe(|| (target.check)(input)));
    let peak = alloc_track::peak();
    let cap = target.alloc_cap(input.len());
    if let Some(message) = crate::panic_capture::take() {
        return Err(message);
    }
    match outcome {
        Err(_) => Err("panic without a message".into()),
        Ok(_) if peak > cap => {
            Err(format!("allocation of {peak} bytes for a {}-byte input (cap {cap})", input.len()))
        }
        Ok(v) => Ok((v, peak)),
    }
}

/// Blanks digits and cuts at the first quote, so messages that differ only in the numbers or
/// the input text they quote count as one rejection path.
fn shape(message: &str) -> String {
    message
        .chars()
        .take_while(|c| !matches!(c, '"' | '\'' | '`' | '\n'))
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .take(120)
        .collect()
}

/// Fuzzes `target` from its seeds within `budget`, reproducibly from `seed`. With
/// `stop_at_first`, returns at the first finding.
pub fn fuzz(target: &Target, budget: Budget, seed: u64, stop_at_first: bool) -> Report {
    crate::panic_capture::install();
    let start = Instant::now();
    let mut rng = Rng::new(seed);
    let mut report = Report::default();
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    let mut seen_inputs: HashSet<Vec<u8>> = HashSet::new();
    let mut seen_rejections: HashSet<String> = HashSet::new();
    let mut seen_findings: HashSet<String> = HashSet::new();
    let mut queue: Vec<Vec<u8>> = (target.seeds)();
    queue.reverse();
    while report.execs < budget.execs && start.elapsed() < budget.time {
        let input = match queue.pop() {
            Some(s) => s,
            None if corpus.is_empty() || rng.one_in(50) => {
                let k = rng.below(64);
                (0..k).map(|_| rng.next_u64() as u8).collect()
            }
            None => {
                let mut d = corpus[rng.below(corpus.len())].clone();
                mutate(&mut d, &mut rng, &corpus, target.dict, target.max_len);
                d
            }
        };
        report.execs += 1;
        let keep = match execute(target, &input) {
            Ok((verdict, peak)) => {
                report.peak_alloc = report.peak_alloc.max(peak);
                match verdict {
                    Verdict::Accepted => {
                        report.accepted += 1;
                        true
                    }
                    Verdict::Rejected(why) => seen_rejections.insert(shape(&why)),
                }
            }
            Err(message) => {
                if seen_findings.insert(shape(&message)) {
                    report.findings.push(Finding { message, input: input.clone() });
                    if stop_at_first {
                        break;
                    }
                }
                false
            }
        };
        if keep && corpus.len() < MAX_CORPUS && seen_inputs.insert(input.clone()) {
            corpus.push(input);
        }
    }
    report.corpus = corpus.len();
    report.rejection_kinds = seen_rejections.len();
    report.elapsed = start.elapsed();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_respect_the_length_cap_and_are_reproducible() {
        let corpus = vec![vec![1u8; 40], vec![2u8; 3]];
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut d = vec![0u8; 50];
            for _ in 0..1000 {
                mutate(&mut d, &mut rng, &corpus, &[b"tok"], 64);
                assert!(d.len() <= 64);
            }
            d
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }
}
