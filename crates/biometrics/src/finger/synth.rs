//! Synthetic fingerprints in the manner of SFinGe (Cappelli, Maio, Maltoni): an orientation
//! field from singular points (Sherlock–Monro's zero-pole model), then ridges grown from
//! seeded noise by repeated Gabor filtering along that field, then the degradations a real
//! capture suffers (noise, blur, lost pressure).
//!
//! Everything is a pure function of the spec, so a person's finger looks the same on every
//! capture, differs from their other fingers and from other people's.

use image::GrayImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Image width, pixels (500 dpi: about 16 mm).
pub const WIDTH: u32 = 256;
/// Image height, pixels (about 20 mm).
pub const HEIGHT: u32 = 320;

/// Henry's classes, as far as the singular points go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternClass {
    /// No core, no delta.
    Arch,
    /// One core, one delta to the right.
    LeftLoop,
    /// One core, one delta to the left.
    RightLoop,
    /// Two cores, two deltas.
    Whorl,
}

/// What a capture did to the finger's image.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Degradation {
    /// Standard deviation of added sensor noise, grey levels.
    pub noise: f32,
    /// Gaussian blur sigma, pixels (a moving or wet finger).
    pub blur: f32,
    /// 0–1: share of contrast lost and of the area not touching the glass (a faint, elderly
    /// or lightly pressed finger).
    pub pressure_loss: f32,
}

/// One finger of one person, captured once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FingerSpec {
    /// The person (any number; the same person gives the same fingers).
    pub person_seed: u64,
    /// ISO/IEC 19794-4 finger position, 1–10.
    pub position: u8,
    /// What the capture did.
    pub degradation: Degradation,
}

struct Singular {
    x: f32,
    y: f32,
    /// +1 core (loop), −1 delta.
    sign: f32,
}

fn singular_points(class: PatternClass, rng: &mut ChaCha8Rng) -> Vec<Singular> {
    let (w, h) = (WIDTH as f32, HEIGHT as f32);
    let jitter = |rng: &mut ChaCha8Rng, v: f32, by: f32| v + rng.gen_range(-by..by);
    let core = |rng: &mut ChaCha8Rng, x: f32| Singular {
        x: jitter(rng, x, 12.0),
        y: jitter(rng, h * 0.42, 15.0),
        sign: 1.0,
    };
    let delta = |rng: &mut ChaCha8Rng, x: f32| Singular {
        x: jitter(rng, x, 12.0),
        y: jitter(rng, h * 0.78, 12.0),
        sign: -1.0,
    };
    match class {
        PatternClass::Arch => Vec::new(),
        PatternClass::LeftLoop => vec![core(rng, w * 0.45), delta(rng, w * 0.80)],
        PatternClass::RightLoop => vec![core(rng, w * 0.55), delta(rng, w * 0.20)],
        PatternClass::Whorl => vec![
            core(rng, w * 0.44),
            Singular {
                x: w * 0.56,
                y: h * 0.50,
                sign: 1.0,
            },
            delta(rng, w * 0.15),
            delta(rng, w * 0.85),
        ],
    }
}

/// Ridge orientation (radians, modulo π) at every pixel.
fn orientation_field(points: &[Singular], arch_bend: f32) -> Vec<f32> {
    let mut field = Vec::with_capacity((WIDTH * HEIGHT) as usize);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let (xf, yf) = (x as f32, y as f32);
            let theta = if points.is_empty() {
                // An arch: ridges run across, bowed upwards in the middle.
                let u = (xf / WIDTH as f32 - 0.5) * 2.0;
                (arch_bend * u * (1.0 - yf / HEIGHT as f32)).atan()
            } else {
                0.5 * points
                    .iter()
                    .map(|p| p.sign * (yf - p.y).atan2(xf - p.x))
                    .sum::<f32>()
            };
            field.push(theta);
        }
    }
    field
}

/// Gabor kernels for `ORIENTATIONS` directions, size `2 * RADIUS + 1`.
const ORIENTATIONS: usize = 16;
const RADIUS: i32 = 5;

fn gabor_kernels(period: f32) -> Vec<Vec<f32>> {
    let sigma = period * 0.45;
    (0..ORIENTATIONS)
        .map(|k| {
            let theta = k as f32 * std::f32::consts::PI / ORIENTATIONS as f32;
            let (s, c) = theta.sin_cos();
            let mut kernel = Vec::new();
            for dy in -RADIUS..=RADIUS {
                for dx in -RADIUS..=RADIUS {
                    let (dx, dy) = (dx as f32, dy as f32);
                    // Across the ridge (normal to theta) the wave; along it, only the envelope.
                    let across = -dx * s + dy * c;
                    let env = (-(dx * dx + dy * dy) / (2.0 * sigma * sigma)).exp();
                    kernel.push(env * (2.0 * std::f32::consts::PI * across / period).cos());
                }
            }
            let mean = kernel.iter().sum::<f32>() / kernel.len() as f32;
            kernel.iter_mut().for_each(|v| *v -= mean);
            kernel
        })
        .collect()
}

fn class_for(position: u8, rng: &mut ChaCha8Rng) -> PatternClass {
    // Loops are the most common class; thumbs are whorls more often.
    let roll: f32 = rng.gen();
    match (position, roll) {
        (1 | 6, r) if r < 0.45 => PatternClass::Whorl,
        (_, r) if r < 0.08 => PatternClass::Arch,
        (_, r) if r < 0.30 => PatternClass::Whorl,
        (p, _) if p <= 5 => PatternClass::RightLoop,
        _ => PatternClass::LeftLoop,
    }
}

/// The clean image of a finger, then the spec's degradation.
pub fn synthesize(spec: &FingerSpec) -> GrayImage {
    let seed = spec
        .person_seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(u64::from(spec.position));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let class = class_for(spec.position, &mut rng);
    let points = singular_points(class, &mut rng);
    let field = orientation_field(&points, rng.gen_range(0.6..1.4));
    let period = rng.gen_range(8.0..10.5);
    let kernels = gabor_kernels(period);

    let n = (WIDTH * HEIGHT) as usize;
    let mut img: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let index: Vec<usize> = field
        .iter()
        .map(|t| {
            let t = t.rem_euclid(std::f32::consts::PI);
            ((t / std::f32::consts::PI * ORIENTATIONS as f32).round() as usize) % ORIENTATIONS
        })
        .collect();
    for _ in 0..6 {
        let mut next = vec![0.0f32; n];
        for y in 0..HEIGHT as i32 {
            for x in 0..WIDTH as i32 {
                let kernel = &kernels[index[(y * WIDTH as i32 + x) as usize]];
                let mut acc = 0.0;
                let mut k = 0;
                for dy in -RADIUS..=RADIUS {
                    let yy = (y + dy).clamp(0, HEIGHT as i32 - 1);
                    for dx in -RADIUS..=RADIUS {
                        let xx = (x + dx).clamp(0, WIDTH as i32 - 1);
                        acc += kernel[k] * img[(yy * WIDTH as i32 + xx) as usize];
                        k += 1;
                    }
                }
                next[(y * WIDTH as i32 + x) as usize] = (acc * 0.6).tanh();
            }
        }
        img = next;
    }
    render(&img, &spec.degradation, &mut rng)
}

/// Grey levels (ridges dark on a light glass), the elliptic contact area, and the damage.
fn render(ridges: &[f32], d: &Degradation, rng: &mut ChaCha8Rng) -> GrayImage {
    let loss = d.pressure_loss.clamp(0.0, 1.0);
    let contrast = 110.0 * (1.0 - 0.85 * loss);
    // Lost pressure shrinks the contact ellipse and breaks it into patches.
    let (rx, ry) = (
        WIDTH as f32 * 0.46 * (1.0 - 0.45 * loss),
        HEIGHT as f32 * 0.46 * (1.0 - 0.45 * loss),
    );
    let (cx, cy) = (WIDTH as f32 / 2.0, HEIGHT as f32 / 2.0);
    let patches: Vec<(f32, f32, f32)> = (0..(loss * 14.0) as usize)
        .map(|_| {
            (
                rng.gen_range(0.0..WIDTH as f32),
                rng.gen_range(0.0..HEIGHT as f32),
                rng.gen_range(12.0..30.0),
            )
        })
        .collect();
    let mut img = GrayImage::new(WIDTH, HEIGHT);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let (xf, yf) = (x as f32, y as f32);
            let e = ((xf - cx) / rx).powi(2) + ((yf - cy) / ry).powi(2);
            let touching = e <= 1.0
                && !patches
                    .iter()
                    .any(|(px, py, r)| (xf - px).powi(2) + (yf - py).powi(2) < r * r);
            let v = if touching {
                let edge = (1.0 - e).min(0.15) / 0.15;
                200.0 - contrast * edge * (ridges[(y * WIDTH + x) as usize] + 1.0) / 2.0 * 1.6
            } else {
                215.0
            };
            img.put_pixel(x, y, image::Luma([v.clamp(0.0, 255.0) as u8]));
        }
    }
    // A real sensor's optics soften the edges a little; blur adds to that.
    let mut img = image::imageops::blur(&img, (0.7f32.powi(2) + d.blur.powi(2)).sqrt());
    if d.noise > 0.0 {
        for p in img.pixels_mut() {
            // Sum of uniforms: near-Gaussian with no extra dependency.
            let g: f32 = (0..4).map(|_| rng.gen_range(-1.0f32..1.0)).sum::<f32>() * 0.866;
            p.0[0] = (f32::from(p.0[0]) + g * d.noise).clamp(0.0, 255.0) as u8;
        }
    }
    img
}
