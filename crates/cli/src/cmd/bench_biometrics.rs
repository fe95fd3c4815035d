//! `ghidanh bench biometrics`: the portrait pipeline (decode, detect, check, crop, encode,
//! record) against decoding and re-encoding the same frame as JPEG, interleaved in one run.
//!
//! The target is absolute (feedback well within a second); it is printed as the
//! ratio that would put one frame at [`FEEDBACK_TARGET`] given this run's baseline, so the
//! headline line compares like with like.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use ghidanh_biometrics::face::{encode_jpeg, PortraitPipeline, JPEG_BUDGET};
use ghidanh_biometrics::finger::{finger_quality, synthesize, Degradation, FingerSpec};

/// Operator feedback must come within half a second ("well within a second").
const FEEDBACK_TARGET: Duration = Duration::from_millis(500);

/// Where `make test-images` extracts scikit-image's photographs (Debian `python3-skimage`).
pub const DEFAULT_IMAGE: &str =
    "target/test-images/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

/// Runs both pipelines over the frame at `image` for about `seconds`.
pub fn run(image: Option<PathBuf>, seconds: f64) -> anyhow::Result<ExitCode> {
    let path = image.unwrap_or_else(|| PathBuf::from(DEFAULT_IMAGE));
    let frame_bytes = read_frame(&path)?;
    let mut pipeline = PortraitPipeline::new()?;
    let budget = Duration::from_secs_f64(seconds.clamp(0.2, 120.0));

    let mut portrait = || -> anyhow::Result<u8> {
        let frame = image::load_from_memory(&frame_bytes)?;
        let check = pipeline.check(&frame);
        // `take` runs the check again and the crop and encode: what the operator's click costs.
        match pipeline.take(&frame, JPEG_BUDGET) {
            Ok(p) => Ok(p.quality),
            Err(_) => Ok(check.score),
        }
    };
    let mut baseline = || -> anyhow::Result<usize> {
        let frame = image::load_from_memory(&frame_bytes)?;
        Ok(encode_jpeg(&frame.to_rgb8(), usize::MAX)?.len())
    };
    let score = portrait()?;
    baseline()?;
    let (ours_t, base_t, runs) = interleaved(budget, &mut portrait, &mut baseline)?;

    // Fingerprint quality of one synthetic 500 dpi print (PNG, as a scanner would hand it),
    // against decoding and re-encoding that PNG.
    let print = synthesize(&FingerSpec {
        person_seed: 1,
        position: 2,
        degradation: Degradation::default(),
    });
    let mut png = Vec::new();
    print.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    let mut finger = || -> anyhow::Result<u8> {
        let img = image::load_from_memory(&png)?.to_luma8();
        Ok(finger_quality(&img).score)
    };
    let mut finger_base = || -> anyhow::Result<usize> {
        let img = image::load_from_memory(&png)?;
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)?;
        Ok(out.len())
    };
    let finger_score = finger()?;
    let (f_ours_t, f_base_t, f_runs) = interleaved(budget / 2, &mut finger, &mut finger_base)?;
    let f_ratio = f_base_t.as_secs_f64() / f_ours_t.as_secs_f64().max(1e-9);
    let f_goal = f_base_t.as_secs_f64() / FEEDBACK_TARGET.as_secs_f64();
    let ratio = base_t.as_secs_f64() / ours_t.as_secs_f64().max(1e-9);
    let goal = base_t.as_secs_f64() / FEEDBACK_TARGET.as_secs_f64();

    println!(
        "biometrics: frame {} ({} bytes), portrait quality {score}",
        path.display(),
        frame_bytes.len()
    );
    println!(
        "{:<52} {:>10} {:>6} {:>7}",
        "operation (median of interleaved runs)", "ms/frame", "runs", "ratio"
    );
    println!(
        "{:<52} {:>10.1} {:>6} {:>7.2}",
        "portrait: decode, detect, check, crop, JPEG, ISO record",
        ours_t.as_secs_f64() * 1e3,
        runs,
        ratio
    );
    println!(
        "{:<52} {:>10.1} {:>6} {:>7.2}",
        "baseline: decode + JPEG re-encode",
        base_t.as_secs_f64() * 1e3,
        runs,
        1.0
    );
    println!(
        "{:<52} {:>10.2} {:>6} {:>7.2}",
        format!("fingerprint: decode PNG, quality (score {finger_score})"),
        f_ours_t.as_secs_f64() * 1e3,
        f_runs,
        f_ratio
    );
    println!(
        "{:<52} {:>10.2} {:>6} {:>7.2}",
        "baseline: decode + PNG re-encode",
        f_base_t.as_secs_f64() * 1e3,
        f_runs,
        1.0
    );
    println!("portrait ratio={ratio:.3} goal={goal:.3}");
    println!("finger_quality ratio={f_ratio:.3} goal={f_goal:.3}");
    Ok(ExitCode::SUCCESS)
}

fn read_frame(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| {
        format!(
            "reading the test frame {} (run `make test-images` for the default one, or pass --image)",
            path.display()
        )
    })
}

/// Runs `ours` and `base` alternately for `budget` (at least 5 rounds each); returns each
/// one's median time and the rounds run. Alternating keeps a burst of someone else's load on
/// this shared machine from landing on one side only.
fn interleaved<A, B>(
    budget: Duration,
    ours: &mut impl FnMut() -> anyhow::Result<A>,
    base: &mut impl FnMut() -> anyhow::Result<B>,
) -> anyhow::Result<(Duration, Duration, usize)> {
    let (mut ours_t, mut base_t) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while start.elapsed() < budget || ours_t.len() < 5 {
        let at = Instant::now();
        std::hint::black_box(ours()?);
        ours_t.push(at.elapsed());
        let at = Instant::now();
        std::hint::black_box(base()?);
        base_t.push(at.elapsed());
    }
    let runs = ours_t.len();
    Ok((median(&mut ours_t), median(&mut base_t), runs))
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}
