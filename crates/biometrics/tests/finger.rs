//! Fingerprint quality on synthetic prints: it must fall as noise, blur and lost pressure
//! grow, and the prints must differ per finger and per person.

use ghidanh_biometrics::finger::{finger_quality, synthesize, Degradation, FingerSpec};

fn score(person: u64, position: u8, d: Degradation) -> f64 {
    let img = synthesize(&FingerSpec {
        person_seed: person,
        position,
        degradation: d,
    });
    f64::from(finger_quality(&img).score)
}

/// Mean score over a few fingers of a few people, so one odd print cannot decide.
fn mean_score(d: Degradation) -> f64 {
    let mut sum = 0.0;
    for (person, position) in [(1, 2), (2, 7), (3, 1), (4, 9)] {
        sum += score(person, position, d);
    }
    sum / 4.0
}

fn falls(name: &str, steps: &[Degradation]) {
    let scores: Vec<f64> = steps.iter().map(|d| mean_score(*d)).collect();
    eprintln!("{name}: {scores:?}");
    for pair in scores.windows(2) {
        assert!(
            pair[1] < pair[0],
            "{name}: quality did not fall: {scores:?}"
        );
    }
    assert!(
        scores[0] >= 60.0,
        "{name}: a clean print scores {}",
        scores[0]
    );
}

#[test]
fn quality_falls_as_noise_grows() {
    let steps: Vec<Degradation> = [0.0, 15.0, 35.0, 60.0, 90.0]
        .iter()
        .map(|&noise| Degradation {
            noise,
            ..Default::default()
        })
        .collect();
    falls("noise", &steps);
}

#[test]
fn quality_falls_as_blur_grows() {
    let steps: Vec<Degradation> = [0.0, 1.5, 2.5, 3.5, 5.0]
        .iter()
        .map(|&blur| Degradation {
            blur,
            ..Default::default()
        })
        .collect();
    falls("blur", &steps);
}

#[test]
fn quality_falls_as_pressure_is_lost() {
    let steps: Vec<Degradation> = [0.0, 0.25, 0.5, 0.75, 0.95]
        .iter()
        .map(|&pressure_loss| Degradation {
            pressure_loss,
            ..Default::default()
        })
        .collect();
    falls("pressure", &steps);
}

#[test]
fn a_blank_or_pure_noise_image_scores_low() {
    let blank = image::GrayImage::from_pixel(256, 320, image::Luma([215]));
    assert_eq!(finger_quality(&blank).score, 0);
    let mut state = 0x1234_5678_9ABC_DEF1u64;
    let noise = image::GrayImage::from_fn(256, 320, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        image::Luma([(state >> 56) as u8])
    });
    let q = finger_quality(&noise);
    assert!(q.score < 25, "{q:?}");
}

#[test]
fn prints_differ_per_finger_and_per_person_and_repeat_per_capture() {
    let clean = Degradation::default();
    let spec = |person, position| FingerSpec {
        person_seed: person,
        position,
        degradation: clean,
    };
    let a = synthesize(&spec(7, 2));
    assert_eq!(
        a,
        synthesize(&spec(7, 2)),
        "the same finger must look the same"
    );
    let differ = |x: &image::GrayImage, y: &image::GrayImage| {
        x.pixels()
            .zip(y.pixels())
            .filter(|(p, q)| p.0[0].abs_diff(q.0[0]) > 40)
            .count()
    };
    assert!(differ(&a, &synthesize(&spec(7, 3))) > 5000);
    assert!(differ(&a, &synthesize(&spec(8, 2))) > 5000);
}

#[test]
fn a_synthetic_print_travels_losslessly_in_an_iso_19794_4_record() {
    use ghidanh_biometrics::finger::{CaptureTime, FingerImageRecord};
    let print = synthesize(&FingerSpec {
        person_seed: 42,
        position: 6,
        degradation: Degradation {
            noise: 10.0,
            ..Default::default()
        },
    });
    let mut png = Vec::new();
    if let Err(e) = print.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png) {
        panic!("{e}");
    }
    let quality = finger_quality(&print).score;
    let record = FingerImageRecord {
        position: 6,
        quality,
        captured_at: CaptureTime {
            year: 2026,
            month: 12,
            day: 2,
            ..Default::default()
        },
        width: print.width() as u16,
        height: print.height() as u16,
        png,
    };
    let parsed = match FingerImageRecord::parse(&record.encode()) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(parsed, record);
    let back = match image::load_from_memory(&parsed.png) {
        Ok(img) => img.to_luma8(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(back, print, "the image must come back pixel for pixel");
    assert_eq!(finger_quality(&back).score, quality);
}
