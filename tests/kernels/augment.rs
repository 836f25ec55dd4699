//! Random image translations (the classifier's augmentation) against the CPU reference, which
//! draws the same Philox offsets: every pixel must match exactly (the kernel only moves values).

use gan_gpu::kernels::augment::shift_images;
use gan_gpu::reference::augment as reference;

use super::common::{assert_close, gpu, poisoned, rng, run_and_read, to_f64, uniform, upload};

#[test]
fn shift_images_matches_reference() {
    let ctx = gpu();
    let mut rng = rng("shift_images");
    for (images, height, width, max_shift, step) in [
        (33, 5, 7, 2, 0u32),
        (64, 28, 28, 1, 5),
        (3, 28, 28, 3, 91),
        (1, 1, 1, 1, 2),
    ] {
        let input = uniform(&mut rng, images * height * width, 0.0, 1.0);
        let output = poisoned(input.len());
        let counter = ctx.upload("step", &[1], &[step]).unwrap();
        let dispatch = shift_images(
            ctx,
            &upload(&input),
            &output,
            (height, width),
            max_shift,
            -0.25,
            1234,
            2,
            &counter,
        )
        .unwrap();
        let got = run_and_read(&[&dispatch], &output);
        let expected = reference::shift_images(
            &to_f64(&input),
            (height, width),
            max_shift,
            -0.25,
            1234,
            2,
            step,
        );
        assert_close(
            &format!("{images}×{height}×{width} ±{max_shift}"),
            &got,
            &expected,
            0.0,
            1.0,
        );
        // Offsets differ between images (with 33 or 64 images, all equal would be a bug).
        if images > 10 {
            let unmoved = (0..images)
                .filter(|&b| {
                    let size = height * width;
                    got[b * size..(b + 1) * size] == input[b * size..(b + 1) * size]
                })
                .count();
            assert!(
                unmoved < images / 2,
                "{unmoved} of {images} images did not move"
            );
        }
    }
}
