//! The example lines each command's `--help` ends with (clap's `after_help`), kept together
//! so they read as one consistent set.

pub const MAIN: &str = "Examples:
  gan-gpu download mnist && gan-gpu train data/mnist --steps 5000
  gan-gpu sample runs/mnist-... -n 64 -o grid.png
  gan-gpu export runs/mnist-... --onnx generator.onnx";

pub const TRAIN: &str = "Examples:
  gan-gpu train                                   # the ring8 toy set, no download needed
  gan-gpu train data/mnist --preset dcgan --steps 2000 --eval-every 1000
  gan-gpu train --resume runs/mnist-20261122-101500 --steps 4000";

pub const SAMPLE: &str = "Examples:
  gan-gpu sample runs/mnist-... -n 64 -o grid.png
  gan-gpu sample runs/mnist-.../generator.safetensors --noise z.npy --format npy -o x.npy
  gan-gpu sample runs/mnist-... --nearest -n 32 -o nearest.png   # beside each, its nearest training image";

pub const INTERPOLATE: &str = "Examples:
  gan-gpu interpolate runs/mnist-... -o interpolation.png
  gan-gpu interpolate runs/mnist-... --rows 4 --steps 12 --slerp
  gan-gpu interpolate runs/mnist-conditional-... --class 7";

pub const INFO: &str = "Examples:
  gan-gpu info
  GAN_GPU_ADAPTER=llvmpipe gan-gpu info";

pub const BENCH: &str = "Examples:
  gan-gpu bench matmul
  gan-gpu bench train --model dcgan --batch-size 64 --seconds 10
  gan-gpu bench conv --repeats 5";

pub const EVAL: &str = "Examples:
  gan-gpu eval runs/mnist-...
  gan-gpu eval runs/mnist-.../generator.safetensors --data data/mnist --samples 2000
  gan-gpu eval runs/ring8-...";

pub const CLASSIFIER: &str = "Examples:
  gan-gpu classifier train data/mnist
  gan-gpu classifier train /usr/share/datasets/fashion-mnist --epochs 4";

pub const EXPORT: &str = "Examples:
  gan-gpu export runs/mnist-20261122-101500 --onnx generator.onnx
  gan-gpu export runs/mnist-.../generator.safetensors --onnx g.onnx
  gan-gpu export runs/mnist-.../checkpoints/step_000002000.safetensors --onnx g2000.onnx";

pub const DOWNLOAD: &str = "Examples:
  gan-gpu download mnist                            # into data/mnist
  gan-gpu download fashion-mnist ~/data/fashion
  gan-gpu download mnist --mirror https://mirror.example.org/mnist/ --checksums mnist.md5";
