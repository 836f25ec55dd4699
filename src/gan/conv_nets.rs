//! The convolutional networks of the presets: DCGAN for 28×28 images (the MNIST / Fashion-MNIST
//! model every DCGAN tutorial trains), its batch-norm-free WGAN-GP critic, and pytorch/examples'
//! DCGAN for 64×64 images. `width` is the first layer's channel count (64 in the originals);
//! smaller widths fit a CPU adapter.

use crate::kernels::Activation;
use crate::nn::{BatchNormSpec, ConvSpec, Layer, LayerInit, LinearSpec, NetworkSpec};

/// DCGAN's initialisation (Radford et al. 2016; pytorch/examples' `weights_init`): convolution
/// weights N(0, 0.02²), batch-norm γ N(1, 0.02²).
const DCGAN_INIT: LayerInit = LayerInit::Normal { std: 0.02 };

fn conv(
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    bias: bool,
) -> ConvSpec {
    ConvSpec {
        in_channels,
        out_channels,
        kernel,
        stride,
        padding,
        bias,
        init: DCGAN_INIT,
    }
}

fn batch_norm(features: usize) -> Layer {
    Layer::BatchNorm(BatchNormSpec {
        features,
        init: DCGAN_INIT,
    })
}

const RELU: Layer = Layer::Activation(Activation::Relu);
const LEAKY: Layer = Layer::Activation(Activation::LeakyRelu(0.2));

/// G for 28×28 images of `channels` channels:
/// Linear(noise, 2w·7·7), BN1d, ReLU, Unflatten(2w, 7, 7), ConvT(2w, w, 4, 2, 1), BN2d, ReLU,
/// ConvT(w, channels, 4, 2, 1), Tanh (w = 64: 128·7·7 = 6272).
pub fn dcgan_generator(noise: usize, channels: usize, width: usize) -> NetworkSpec {
    let wide = 2 * width;
    NetworkSpec::new(
        &[noise],
        vec![
            Layer::Linear(LinearSpec {
                inputs: noise,
                outputs: wide * 7 * 7,
                bias: true,
                init: LayerInit::Torch,
            }),
            batch_norm(wide * 7 * 7),
            RELU,
            Layer::Unflatten(vec![wide, 7, 7]),
            Layer::ConvTranspose2d(conv(wide, width, 4, 2, 1, true)),
            batch_norm(width),
            RELU,
            Layer::ConvTranspose2d(conv(width, channels, 4, 2, 1, true)),
            Layer::Activation(Activation::Tanh),
        ],
    )
}

/// D for 28×28 images: Conv(channels, w, 4, 2, 1), LeakyReLU 0.2, Conv(w, 2w, 4, 2, 1), BN2d
/// (left out with `batch_norm` false, for a Wasserstein critic), LeakyReLU 0.2, Flatten,
/// Linear(2w·7·7, 1) — a logit.
pub fn dcgan_discriminator(channels: usize, width: usize, with_batch_norm: bool) -> NetworkSpec {
    let wide = 2 * width;
    let mut layers = vec![
        Layer::Conv2d(conv(channels, width, 4, 2, 1, true)),
        LEAKY,
        Layer::Conv2d(conv(width, wide, 4, 2, 1, true)),
    ];
    if with_batch_norm {
        layers.push(batch_norm(wide));
    }
    layers.extend([
        LEAKY,
        Layer::Flatten,
        Layer::Linear(LinearSpec {
            inputs: wide * 7 * 7,
            outputs: 1,
            bias: true,
            init: LayerInit::Torch,
        }),
    ]);
    NetworkSpec::new(&[channels, 28, 28], layers)
}

/// pytorch/examples' DCGAN generator (`netG.main`) for 64×64 images: noise as [noise, 1, 1],
/// ConvT(noise, 8w, 4, 1, 0), then ConvT halving the channels and doubling the size three times
/// (8w → 4w → 2w → w), each with BN2d and ReLU, then ConvT(w, channels, 4, 2, 1) and Tanh; no
/// convolution biases.
pub fn dcgan64_generator(noise: usize, channels: usize, width: usize) -> NetworkSpec {
    let mut layers = vec![
        Layer::ConvTranspose2d(conv(noise, 8 * width, 4, 1, 0, false)),
        batch_norm(8 * width),
        RELU,
    ];
    for scale in [8, 4, 2] {
        layers.push(Layer::ConvTranspose2d(conv(
            scale * width,
            scale / 2 * width,
            4,
            2,
            1,
            false,
        )));
        layers.push(batch_norm(scale / 2 * width));
        layers.push(RELU);
    }
    layers.push(Layer::ConvTranspose2d(conv(
        width, channels, 4, 2, 1, false,
    )));
    layers.push(Layer::Activation(Activation::Tanh));
    NetworkSpec::new(&[noise, 1, 1], layers)
}

/// pytorch/examples' DCGAN discriminator (`netD.main`) without its final sigmoid (a logit into
/// the loss): Conv(channels, w, 4, 2, 1), LeakyReLU 0.2, then Conv doubling the channels and
/// halving the size three times, each with BN2d and LeakyReLU 0.2, then Conv(8w, 1, 4, 1, 0).
pub fn dcgan64_discriminator(channels: usize, width: usize) -> NetworkSpec {
    let mut layers = vec![Layer::Conv2d(conv(channels, width, 4, 2, 1, false)), LEAKY];
    for scale in [1, 2, 4] {
        layers.push(Layer::Conv2d(conv(
            scale * width,
            2 * scale * width,
            4,
            2,
            1,
            false,
        )));
        layers.push(batch_norm(2 * scale * width));
        layers.push(LEAKY);
    }
    layers.push(Layer::Conv2d(conv(8 * width, 1, 4, 1, 0, false)));
    NetworkSpec::new(&[channels, 64, 64], layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dcgan_shapes_and_torch_indices_match_the_pytorch_modules() {
        let g = dcgan_generator(100, 1, 64);
        g.validate("G").unwrap();
        assert_eq!(g.output_shape(), [1, 28, 28]);
        assert_eq!(g.parameter_shapes()[0], [100, 6272]);
        assert_eq!(g.torch_indices(), (0..9).collect::<Vec<_>>());
        let d = dcgan_discriminator(1, 64, true);
        d.validate("D").unwrap();
        assert_eq!(d.output_shape(), [1]);
        assert_eq!(d.torch_indices(), (0..7).collect::<Vec<_>>());
        dcgan_discriminator(1, 8, false).validate("D").unwrap();
    }

    #[test]
    fn dcgan64_maps_noise_to_64x64_and_back_to_one_logit() {
        let g = dcgan64_generator(100, 3, 8);
        g.validate("G").unwrap();
        assert_eq!(g.output_shape(), [3, 64, 64]);
        let d = dcgan64_discriminator(3, 8);
        d.validate("D").unwrap();
        assert_eq!(d.output_shape(), [1, 1, 1]);
        assert_eq!(d.outputs(), 1);
        // pytorch/examples: netG.main has 14 modules, netD.main 12 without the sigmoid.
        assert_eq!(g.layers.len(), 14);
        assert_eq!(d.layers.len(), 12);
    }
}
