// Package safetensors reads and writes the safetensors tensor file format used
// by Hugging Face models (model.safetensors, adapter_model.safetensors).
//
// A file is an 8-byte little-endian header length N, N bytes of JSON mapping
// each tensor name to {"dtype","shape","data_offsets"} (plus an optional
// "__metadata__" string map), padded with spaces to a multiple of 8 bytes, and
// then the tensors' raw little-endian row-major bytes, packed without gaps.
//
// Reading: Open memory-maps a file read-only, so loading a 135M-parameter model
// costs no heap copy of the file; a Tensor's Data aliases the mapping until
// Close. Every header is validated (known dtypes, shape × dtype size equals the
// byte range, ranges contiguous and covering the data section) before any
// tensor is handed out.
//
// Writing: Write and WriteFile produce exactly the bytes Python's safetensors
// package writes for the same tensors and metadata (tensors ordered by
// descending dtype rank then name, compact JSON, space padding), so a file
// Python wrote re-saves bit-identically. Create streams one tensor at a time
// into a file, for models too large to hold twice.
//
// The package converts between float32 and F16/BF16 with round-to-nearest-even
// exactly as numpy and ml_dtypes do. It does not know about models, tensor
// naming schemes or any tensor library; it does not read pickled PyTorch
// checkpoints (.bin/.pt).
package safetensors
