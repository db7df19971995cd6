//go:build torch

package torch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"unsafe"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/safetensors"
)

// File names beside finetune's (ModelFile, AdapterModelFile, …).
const (
	modelIndexFile = "model.safetensors.index.json" // sharded Hugging Face checkpoints
	modelFile      = finetune.ModelFile
	adapterFile    = finetune.AdapterModelFile
	adapterCfgFile = finetune.AdapterConfigFile
	optimizerFile  = finetune.OptimizerFile
	configFile     = finetune.ConfigFile
)

func init() {
	var x uint16 = 1
	if *(*byte)(unsafe.Pointer(&x)) != 1 {
		panic("finetune/torch: big-endian hosts are not supported")
	}
}

// readTensorFiles opens dir's model weights: model.safetensors, or the shards listed in
// model.safetensors.index.json. The caller closes the files.
func readTensorFiles(dir string) ([]*safetensors.File, error) {
	single := filepath.Join(dir, modelFile)
	if _, err := os.Stat(single); err == nil {
		f, err := safetensors.Open(single)
		if err != nil {
			return nil, err
		}
		return []*safetensors.File{f}, nil
	}
	idx := filepath.Join(dir, modelIndexFile)
	data, err := os.ReadFile(idx)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s or %s", dir, modelFile, modelIndexFile)
	}
	if err != nil {
		return nil, err
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s: %w", idx, err)
	}
	shards := map[string]bool{}
	for _, s := range index.WeightMap {
		shards[s] = true
	}
	names := make([]string, 0, len(shards))
	for s := range shards {
		names = append(names, s)
	}
	sort.Strings(names)
	var files []*safetensors.File
	for _, s := range names {
		f, err := safetensors.Open(filepath.Join(dir, s))
		if err != nil {
			closeAll(files)
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

func closeAll(files []*safetensors.File) {
	for _, f := range files {
		f.Close()
	}
}

// tensorFrom copies a safetensors tensor into a new float32 libtorch tensor.
func tensorFrom(t safetensors.Tensor) (tensor, error) {
	if t.DType == safetensors.F32 {
		n := t.NumElements()
		if int64(len(t.Data)) != 4*n {
			return tensor{}, fmt.Errorf("tensor %q: %d bytes for %d F32 values", t.Name, len(t.Data), n)
		}
		if n == 0 {
			return zeros(kFloat32, t.Shape...), nil
		}
		// at_tensor_of_data copies the bytes (the mapping stays read-only).
		if len(t.Shape) == 0 {
			return tensor{}, fmt.Errorf("tensor %q: scalar tensors are not model weights", t.Name)
		}
		return fromBytesF32(t.Data, t.Shape), nil
	}
	v, err := t.Float32s()
	if err != nil {
		return tensor{}, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return fromFloat32s(v, t.Shape...), nil
}

func fromBytesF32(b []byte, shape []int64) tensor {
	v := unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
	return fromFloat32s(v, shape...)
}

// loadParams loads every tensor cfg.Tensors() names from dir's safetensors files as float32. Extra tensors
// (rotary caches, an lm_head.weight beside tied embeddings) are ignored.
func loadParams(dir string, cfg *finetune.ModelConfig) (params map[string]tensor, err error) {
	files, err := readTensorFiles(dir)
	if err != nil {
		return nil, err
	}
	defer closeAll(files)
	where := map[string]*safetensors.File{}
	for _, f := range files {
		for _, n := range f.Names() {
			where[n] = f
		}
	}
	params = map[string]tensor{}
	defer func() {
		if err != nil {
			for _, t := range params {
				t.free()
			}
			params = nil
		}
	}()
	for _, spec := range cfg.Tensors() {
		f, ok := where[spec.Name]
		if !ok {
			return nil, fmt.Errorf("%s: weights have no tensor %q (config.json implies it)", dir, spec.Name)
		}
		st, err := f.Tensor(spec.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if !slices.Equal(st.Shape, spec.Shape) {
			return nil, fmt.Errorf("%s: tensor %q has shape %v, config.json implies %v", dir, spec.Name, st.Shape, spec.Shape)
		}
		t, err := tensorFrom(st)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		params[spec.Name] = t
	}
	return params, nil
}

// initParams creates freshly initialised weights for a model trained from scratch: normal(0,
// initializer_range) for matrices (as HF's _init_weights), ones for RMSNorm weights. Values come from a
// Go PRNG seeded by seed, so they are identical on every machine and thread count.
func initParams(cfg *finetune.ModelConfig, seed int64) map[string]tensor {
	std := cfg.InitializerRange
	if std <= 0 {
		std = 0.02
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	params := map[string]tensor{}
	for _, spec := range cfg.Tensors() {
		n := prod(spec.Shape)
		v := make([]float32, n)
		if len(spec.Shape) == 1 {
			for i := range v {
				v[i] = 1
			}
		} else {
			for i := range v {
				v[i] = float32(r.NormFloat64() * std)
			}
		}
		params[spec.Name] = fromFloat32s(v, spec.Shape...)
	}
	return params
}

// saveTensors writes named float32 tensors to path (atomically, via the safetensors package), one tensor's
// bytes in Go memory at a time.
func saveTensors(path string, ts []namedTensor, meta map[string]string) error {
	headers := make([]safetensors.Header, len(ts))
	for i, nt := range ts {
		headers[i] = safetensors.Header{Name: nt.name, DType: safetensors.F32, Shape: nt.t.shape()}
	}
	w, err := safetensors.Create(path, headers, meta)
	if err != nil {
		return err
	}
	for _, nt := range ts {
		if err := w.WriteTensor(nt.name, f32Bytes(nt.t.float32s())); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

func f32Bytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}

// readF32 reads a float32 tensor by name from an open safetensors file, checking its shape.
func readF32(f *safetensors.File, name string, shape []int64) (tensor, error) {
	st, err := f.Tensor(name)
	if err != nil {
		return tensor{}, err
	}
	if shape != nil && !slices.Equal(st.Shape, shape) {
		return tensor{}, fmt.Errorf("tensor %q has shape %v, want %v", name, st.Shape, shape)
	}
	return tensorFrom(st)
}

// saveModel writes the base weights (merged with the LoRA adapter when merge is set) in HF naming, plus
// config.json, into dir.
func (m *model) saveModel(dir string, merge bool) error {
	var ts []namedTensor
	var s scope
	defer s.free()
	prev := setGradEnabled(false)
	defer setGradEnabled(prev)
	merged := map[string]tensor{}
	if merge && m.lora != nil {
		for _, l := range m.layers {
			for _, p := range l.projs() {
				if p.a.ok() {
					delta := s.t(mulScalar(s.t(matmul(p.b, p.a)), m.loraScale))
					merged[p.name+".weight"] = s.t(add(p.w, delta))
				}
			}
		}
	}
	for _, n := range m.names {
		t := m.params[n]
		if mt, ok := merged[n]; ok {
			t = mt
		}
		ts = append(ts, namedTensor{n, t})
	}
	if err := saveTensors(filepath.Join(dir, modelFile), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	cfg := *m.cfg
	cfg.TorchDtype = "float32"
	return cfg.Save(filepath.Join(dir, configFile))
}
