// placeholder: kernels of this family are being written
