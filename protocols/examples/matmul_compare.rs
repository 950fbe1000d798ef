//! One malicious `n×n` fixed-point matrix product two ways in one run, 2 parties over TCP
//! loopback, preprocessing included: element-wise Beaver triples from MASCOT (the default
//! preprocessing) against one HE matrix triple (`spdz::matrix`, authenticated through MASCOT input
//! masks). Prints each side's bytes sent per party, wall time and peak memory, then one line
//! `RATIO matrix/elementwise bytes=<x> time=<y>`.
//!
//! `cargo run --release -p tessera-protocols --example matmul_compare -- [n]` (default 128)
//! `cargo run --release -p tessera-protocols --example matmul_compare -- conv` does the same for
//! one fixed-point convolution, 32×32×16 input, 3×3×16×16 kernel, stride 1, padding 1 (a
//! 1024×144 by 144×16 product after im2col); its element-wise side runs the convolution of one
//! input row (32 of the 1,024 output pixels, the same triples per pixel) and scales by 32.
//!
//! Each side runs in its own child process (so its peak memory is its own; both parties are
//! threads of that process, so the figure is both parties together). Measured, not scaled: MASCOT
//! setup, the inputs `X` (party 0) and `Y` (party 1), the matrix triple (HE setup, generation,
//! sacrifice) and the matrix-triple product. **Scaled linearly:** the element-wise product is run
//! on the first rows of `X` only (at least 32,768 triples' worth) and multiplied by `n / rows`;
//! the truncation (one per output entry, identical on both sides: MASCOT random bits) is run on
//! 128 entries and multiplied by `n² / 128`, then added to both sides. The output says so.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tessera_accelerator::Accelerator;
use tessera_mpc::harness::{PartyRun, Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, Field, Fp127, PartyId, Prg, Ring, Seed};
use tessera_protocols::fixed::{FixedPoint, trunc_pr};
use tessera_protocols::spdz::matrix::{Conv2dShape, MatrixTripleGen, im2col_plain};
use tessera_protocols::spdz::{Mascot, MascotConfig, Session};

type F = Fp127;

/// Element-wise triples measured at least (the rest is scaled).
const ELEMENTWISE_BATCH: usize = 32_768;
/// Truncations measured (the rest is scaled).
const TRUNC_BATCH: usize = 128;

/// What one party measured in one phase: a part run in full and a part to be scaled.
#[derive(Clone, Copy, Debug, Default)]
struct Part {
    bytes: u64,
    secs: f64,
}

fn part(start: Instant, bytes_before: u64, bytes_now: u64) -> Part {
    Part { bytes: bytes_now - bytes_before, secs: start.elapsed().as_secs_f64() }
}

/// `fixed` is measured in full, `scaled` is multiplied by `scale`.
#[derive(Clone, Copy, Debug, Default)]
struct PhaseResult {
    fixed: [Part; 2],
    scaled: [Part; 2],
    scale: f64,
    peak_kib: u64,
}

impl PhaseResult {
    fn bytes(&self, p: usize) -> f64 {
        self.fixed[p].bytes as f64 + self.scaled[p].bytes as f64 * self.scale
    }

    fn secs(&self) -> f64 {
        let slowest = |parts: &[Part; 2]| parts.iter().map(|p| p.secs).fold(0.0, f64::max);
        slowest(&self.fixed) + slowest(&self.scaled) * self.scale
    }

    fn to_line(self, name: &str) -> String {
        format!(
            "PHASE {name} {} {} {} {} {} {} {} {} {} {}",
            self.fixed[0].bytes,
            self.fixed[1].bytes,
            self.fixed[0].secs,
            self.fixed[1].secs,
            self.scaled[0].bytes,
            self.scaled[1].bytes,
            self.scaled[0].secs,
            self.scaled[1].secs,
            self.scale,
            self.peak_kib
        )
    }

    fn parse(line: &str) -> Option<(String, Self)> {
        let mut it = line.strip_prefix("PHASE ")?.split_whitespace();
        let name = it.next()?.to_string();
        let v: Vec<f64> = it.map(|x| x.parse().ok()).collect::<Option<_>>()?;
        if v.len() != 10 {
            return None;
        }
        let p = |b: f64, s: f64| Part { bytes: b as u64, secs: s };
        Some((
            name,
            Self {
                fixed: [p(v[0], v[2]), p(v[1], v[3])],
                scaled: [p(v[4], v[6]), p(v[5], v[7])],
                scale: v[8],
                peak_kib: v[9] as u64,
            },
        ))
    }
}

/// Peak resident memory of this process (Linux `VmHWM`), 0 where unknown.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn inputs(n: usize) -> (Vec<F>, Vec<F>) {
    // Fixed-point values in [−8, 8) with f = 16: products of n terms stay far below 2^60.
    let fx = FixedPoint::default();
    let mut prg = Prg::from_seed(&Seed([42; 16]));
    let mut draw = || {
        (0..n * n)
            .map(|_| {
                let r = F::random(&mut prg).to_u128() % (1 << 20);
                fx.encode::<F>(r as f64 / (1u64 << 16) as f64 - 8.0).expect("in range")
            })
            .collect::<Vec<F>>()
    };
    (draw(), draw())
}

/// The convolution of `-- conv`.
const CONV: Conv2dShape = Conv2dShape {
    height: 32,
    width: 32,
    in_channels: 16,
    out_channels: 16,
    kernel_height: 3,
    kernel_width: 3,
    stride: 1,
    padding: 1,
};

/// Input and kernel of the convolution, the same kind of values as [`inputs`].
fn conv_inputs(shape: &Conv2dShape) -> (Vec<F>, Vec<F>) {
    let side = shape.input_len().max(shape.kernel_len()).isqrt() + 1;
    let (x, y) = inputs(side);
    (x[..shape.input_len()].to_vec(), y[..shape.kernel_len()].to_vec())
}

fn plain_conv(input: &[F], kernel: &[F], shape: &Conv2dShape) -> Vec<F> {
    let (m, k, n) = shape.matmul_shape().expect("valid shape");
    let patches = im2col_plain(input, shape).expect("valid input");
    let mut out = vec![F::ZERO; m * n];
    for i in 0..m {
        for l in 0..k {
            let a = patches[i * k + l];
            for j in 0..n {
                out[i * n + j] += a * kernel[l * n + j];
            }
        }
    }
    out
}

fn plain_rows(x: &[F], y: &[F], rows: usize, n: usize) -> Vec<F> {
    let mut out = vec![F::ZERO; rows * n];
    for i in 0..rows {
        for l in 0..n {
            let a = x[i * n + l];
            for j in 0..n {
                out[i * n + j] += a * y[l * n + j];
            }
        }
    }
    out
}

type PartyOut = tessera_protocols::Result<(Part, Part)>;

fn collect(runs: Vec<PartyRun<PartyOut>>) -> Result<([Part; 2], [Part; 2]), String> {
    let mut fixed = [Part::default(); 2];
    let mut scaled = [Part::default(); 2];
    for run in runs {
        let (f, s) = run.output.map_err(|e| format!("{}: {e}", run.party))?;
        fixed[run.party.index()] = f;
        scaled[run.party.index()] = s;
    }
    Ok((fixed, scaled))
}

fn mine(me: PartyId, owner: PartyId, v: &[F]) -> Option<&[F]> {
    (me == owner).then_some(v)
}

/// Element-wise: MASCOT setup and inputs in full, the product on `rows` rows of X.
fn phase_elementwise(n: usize) -> Result<PhaseResult, String> {
    let rows = ELEMENTWISE_BATCH.div_ceil(n * n).clamp(1, n);
    let (x, y) = inputs(n);
    let want = plain_rows(&x, &y, rows, n);
    let runs = run_parties(2, Transport::TcpLoopback, ChannelConfig::default(), |ch| -> PartyOut {
        let me = ch.party();
        let start = Instant::now();
        let prep = Mascot::<F>::setup(ch, MascotConfig::default())?;
        let mut s = Session::new(ch, prep);
        let xs = s.input(PartyId(0), mine(me, PartyId(0), &x), n * n)?;
        let ys = s.input(PartyId(1), mine(me, PartyId(1), &y), n * n)?;
        let fixed = part(start, 0, s.stats().bytes_sent);
        let (start, before) = (Instant::now(), s.stats().bytes_sent);
        let z = s.matmul_elementwise(&xs.slice(0..rows * n)?, &ys, (rows, n, n))?;
        s.check()?;
        let scaled = part(start, before, s.stats().bytes_sent);
        if s.output(&z)? != want {
            return Err(tessera_protocols::Error::Misuse("element-wise product is wrong".into()));
        }
        Ok((fixed, scaled))
    })
    .map_err(|e| e.to_string())?;
    let (fixed, scaled) = collect(runs)?;
    println!(
        "elementwise: measured the product on {rows} of {n} rows ({} of {} triples), scaled ×{}",
        rows * n * n,
        n * n * n,
        n as f64 / rows as f64
    );
    Ok(PhaseResult { fixed, scaled, scale: n as f64 / rows as f64, peak_kib: peak_kib() })
}

/// Matrix triple: everything in full.
fn phase_matrix(n: usize) -> Result<PhaseResult, String> {
    let (x, y) = inputs(n);
    let want = plain_rows(&x, &y, n, n);
    let acc = Arc::new(Accelerator::cpu());
    let runs = run_parties(2, Transport::TcpLoopback, ChannelConfig::default(), |ch| -> PartyOut {
        let me = ch.party();
        let start = Instant::now();
        let mut generator = MatrixTripleGen::setup(ch, Arc::clone(&acc))?;
        let prep = Mascot::<F>::setup(ch, MascotConfig::default())?;
        let mut s = Session::new(ch, prep);
        let t_setup = start.elapsed();
        let b_setup = s.stats().bytes_sent;
        s.preprocess_matmul(&mut generator, (n, n, n))?;
        let t_triple = start.elapsed() - t_setup;
        let b_triple = s.stats().bytes_sent - b_setup;
        let xs = s.input(PartyId(0), mine(me, PartyId(0), &x), n * n)?;
        let ys = s.input(PartyId(1), mine(me, PartyId(1), &y), n * n)?;
        let before = s.stats().bytes_sent;
        let t0 = Instant::now();
        let z = s.matmul(&xs, &ys, (n, n, n))?;
        s.check()?;
        let t_online = t0.elapsed();
        let b_online = s.stats().bytes_sent - before;
        let fixed = part(start, 0, s.stats().bytes_sent);
        if me == PartyId(0) {
            let st = generator.stats();
            println!(
                "matrix: party 0: setup (HE keys + MASCOT) {t_setup:.2?} {:.1} MB; triple {t_triple:.2?} {:.1} MB ({} uploads, {} returns); product {t_online:.2?} {:.2} MB",
                b_setup as f64 / 1e6,
                b_triple as f64 / 1e6,
                st.uploads,
                st.returns,
                b_online as f64 / 1e6
            );
        }
        if s.output(&z)? != want {
            return Err(tessera_protocols::Error::Misuse("matrix-triple product is wrong".into()));
        }
        Ok((fixed, Part::default()))
    })
    .map_err(|e| e.to_string())?;
    let (fixed, scaled) = collect(runs)?;
    Ok(PhaseResult { fixed, scaled, scale: 0.0, peak_kib: peak_kib() })
}

/// Element-wise convolution: the full input and kernel are input, the convolution of the first
/// input row (`CONV` with height 1: one output row) is computed and scaled by `OH`.
fn phase_conv_elementwise() -> Result<PhaseResult, String> {
    let (oh, _) = CONV.output_size().map_err(|e| e.to_string())?;
    let row = Conv2dShape { height: 1, ..CONV };
    let (x, k) = conv_inputs(&CONV);
    let row_len = row.input_len();
    let want = plain_conv(&x[..row_len], &k, &row);
    let runs = run_parties(2, Transport::TcpLoopback, ChannelConfig::default(), |ch| -> PartyOut {
        let me = ch.party();
        let start = Instant::now();
        let prep = Mascot::<F>::setup(ch, MascotConfig::default())?;
        let mut s = Session::new(ch, prep);
        let xs = s.input(PartyId(0), mine(me, PartyId(0), &x), x.len())?;
        let ks = s.input(PartyId(1), mine(me, PartyId(1), &k), k.len())?;
        let fixed = part(start, 0, s.stats().bytes_sent);
        let (start, before) = (Instant::now(), s.stats().bytes_sent);
        let z = s.conv2d(&xs.slice(0..row_len)?, &ks, row)?;
        s.check()?;
        let scaled = part(start, before, s.stats().bytes_sent);
        if s.output(&z)? != want {
            return Err(tessera_protocols::Error::Misuse(
                "element-wise convolution is wrong".into(),
            ));
        }
        Ok((fixed, scaled))
    })
    .map_err(|e| e.to_string())?;
    let (fixed, scaled) = collect(runs)?;
    let (m, kk, n) = row.matmul_shape().map_err(|e| e.to_string())?;
    println!(
        "elementwise conv: measured 1 of {oh} output rows ({} triples), scaled ×{oh}",
        m * kk * n
    );
    Ok(PhaseResult { fixed, scaled, scale: oh as f64, peak_kib: peak_kib() })
}

/// Convolution with a matrix triple of its im2col shape, everything in full.
fn phase_conv_matrix() -> Result<PhaseResult, String> {
    let (x, k) = conv_inputs(&CONV);
    let want = plain_conv(&x, &k, &CONV);
    let acc = Arc::new(Accelerator::cpu());
    let runs = run_parties(2, Transport::TcpLoopback, ChannelConfig::default(), |ch| -> PartyOut {
        let me = ch.party();
        let start = Instant::now();
        let mut generator = MatrixTripleGen::setup(ch, Arc::clone(&acc))?;
        let prep = Mascot::<F>::setup(ch, MascotConfig::default())?;
        let mut s = Session::new(ch, prep);
        s.preprocess_conv2d(&mut generator, CONV)?;
        let t_triple = start.elapsed();
        let xs = s.input(PartyId(0), mine(me, PartyId(0), &x), x.len())?;
        let ks = s.input(PartyId(1), mine(me, PartyId(1), &k), k.len())?;
        let z = s.conv2d(&xs, &ks, CONV)?;
        s.check()?;
        let fixed = part(start, 0, s.stats().bytes_sent);
        if me == PartyId(0) {
            let st = generator.stats();
            println!(
                "matrix conv: party 0: setup + triple {t_triple:.2?} ({} uploads, {} returns), total {:.1} MB",
                st.uploads,
                st.returns,
                fixed.bytes as f64 / 1e6
            );
        }
        if s.output(&z)? != want {
            return Err(tessera_protocols::Error::Misuse("matrix convolution is wrong".into()));
        }
        Ok((fixed, Part::default()))
    })
    .map_err(|e| e.to_string())?;
    let (fixed, scaled) = collect(runs)?;
    Ok(PhaseResult { fixed, scaled, scale: 0.0, peak_kib: peak_kib() })
}

/// The truncations of the n² outputs (the same on both sides), on TRUNC_BATCH entries.
fn phase_trunc(outputs: usize) -> Result<PhaseResult, String> {
    let fx = FixedPoint::default();
    let vals: Vec<F> = (0..TRUNC_BATCH).map(|i| F::from_i128((i as i128 - 64) << 30)).collect();
    let runs = run_parties(2, Transport::TcpLoopback, ChannelConfig::default(), |ch| -> PartyOut {
        let me = ch.party();
        let prep = Mascot::<F>::setup(ch, MascotConfig::default())?;
        let mut s = Session::new(ch, prep);
        let v = s.input(PartyId(0), mine(me, PartyId(0), &vals), TRUNC_BATCH)?;
        let (start, before) = (Instant::now(), s.stats().bytes_sent);
        let t = trunc_pr(&mut s, fx, &v, fx.f())?;
        s.check()?;
        let scaled = part(start, before, s.stats().bytes_sent);
        let out = s.output(&t)?;
        for (o, v) in out.iter().zip(&vals) {
            if (o.to_i128() - (v.to_i128() >> fx.f())).abs() > 1 {
                return Err(tessera_protocols::Error::Misuse("truncation is wrong".into()));
            }
        }
        Ok((Part::default(), scaled))
    })
    .map_err(|e| e.to_string())?;
    let (fixed, scaled) = collect(runs)?;
    let scale = outputs as f64 / TRUNC_BATCH as f64;
    println!("truncation: measured {TRUNC_BATCH} of {outputs} truncations, scaled ×{scale}");
    Ok(PhaseResult { fixed, scaled, scale, peak_kib: peak_kib() })
}

fn run_child(phase: &str, job: &str) -> Result<PhaseResult, Box<dyn std::error::Error>> {
    let out = Command::new(std::env::current_exe()?).args(["--phase", phase, job]).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut result = None;
    for line in stdout.lines() {
        match PhaseResult::parse(line) {
            Some((name, r)) if name == phase => result = Some(r),
            _ => println!("{line}"),
        }
    }
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
    result.ok_or_else(|| format!("phase {phase} failed ({})", out.status).into())
}

fn print_side(name: &str, r: &PhaseResult, trunc: &PhaseResult) -> (f64, f64) {
    let bytes: Vec<f64> = (0..2).map(|p| r.bytes(p) + trunc.bytes(p)).collect();
    let secs = r.secs() + trunc.secs();
    println!(
        "{name}: bytes sent party 0 {:.1} MB, party 1 {:.1} MB; wall {:.1} s; peak memory {:.0} MiB (both parties, one process; the measured part only){}",
        bytes[0] / 1e6,
        bytes[1] / 1e6,
        secs,
        r.peak_kib as f64 / 1024.0,
        if r.scale > 0.0 { "; product scaled from a batch" } else { "" }
    );
    println!(
        "{name}: of which product {:.1} MB / {:.1} s, truncation {:.1} MB / {:.1} s (scaled)",
        r.bytes(0) / 1e6,
        r.secs(),
        trunc.bytes(0) / 1e6,
        trunc.secs()
    );
    (bytes.iter().sum::<f64>() / 2.0, secs)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, phase, job] = args.as_slice()
        && flag == "--phase"
    {
        let conv_outputs = || CONV.matmul_shape().map(|(m, _, n)| m * n).unwrap_or(0);
        let r = match (phase.as_str(), job.as_str()) {
            ("elementwise", "conv") => phase_conv_elementwise(),
            ("matrix", "conv") => phase_conv_matrix(),
            ("trunc", "conv") => phase_trunc(conv_outputs()),
            ("elementwise", n) => phase_elementwise(n.parse()?),
            ("matrix", n) => phase_matrix(n.parse()?),
            ("trunc", n) => phase_trunc(n.parse::<usize>()?.pow(2)),
            (other, _) => Err(format!("unknown phase {other}")),
        }?;
        println!("{}", r.to_line(phase));
        return Ok(());
    }
    let job = args.first().cloned().unwrap_or_else(|| "128".into());
    if job == "conv" {
        println!(
            "matmul_compare: one malicious fixed-point convolution {}×{}×{} input, {}×{}×{}×{} kernel, stride {}, padding {}, 2 parties, TCP loopback",
            CONV.height,
            CONV.width,
            CONV.in_channels,
            CONV.kernel_height,
            CONV.kernel_width,
            CONV.in_channels,
            CONV.out_channels,
            CONV.stride,
            CONV.padding
        );
    } else {
        let n: usize = job.parse()?;
        println!(
            "matmul_compare: one malicious {n}×{n} fixed-point product, 2 parties, TCP loopback"
        );
    }
    let started = Instant::now();
    let elementwise = run_child("elementwise", &job)?;
    let matrix = run_child("matrix", &job)?;
    let trunc = run_child("trunc", &job)?;
    let (eb, et) = print_side("elementwise (MASCOT triples)", &elementwise, &trunc);
    let (mb, mt) = print_side("matrix (HE matrix triple)", &matrix, &trunc);
    println!(
        "product alone (truncation excluded): matrix/elementwise bytes={:.6} time={:.6}",
        (matrix.bytes(0) + matrix.bytes(1)) / (elementwise.bytes(0) + elementwise.bytes(1)),
        matrix.secs() / elementwise.secs()
    );
    println!("(whole run {:.1?})", Duration::from_secs_f64(started.elapsed().as_secs_f64()));
    println!("RATIO matrix/elementwise bytes={:.6} time={:.6}", mb / eb, mt / et);
    Ok(())
}
