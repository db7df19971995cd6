package finetune

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune/tokenize"
)

func TestLoadModelConfig(t *testing.T) {
	tests := []struct {
		file      string
		params    int64
		headDim   int
		kvHeads   int
		eos       TokenIDs
		ropeType  string
		extraKeys []string
	}{
		// SmolLM2-135M: 134,515,008 parameters as published.
		{"smollm2-135m.json", 134_515_008, 64, 3, TokenIDs{0}, "", []string{"attention_dropout", "is_llama_config", "pretraining_tp", "rope_interleaved", "transformers_version", "use_cache"}},
		{"llama31-style.json", 1_235_814_400, 64, 8, TokenIDs{128001, 128008, 128009}, "llama3", nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c, err := LoadModelConfig(filepath.Join("testdata", "configs", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.NumParams(); got != tc.params {
				t.Errorf("NumParams = %d, want %d", got, tc.params)
			}
			if c.HeadDimension() != tc.headDim || c.KVHeads() != tc.kvHeads {
				t.Errorf("HeadDimension, KVHeads = %d, %d; want %d, %d", c.HeadDimension(), c.KVHeads(), tc.headDim, tc.kvHeads)
			}
			if !equalInts(c.EOSTokenID, tc.eos) {
				t.Errorf("EOSTokenID = %v, want %v", c.EOSTokenID, tc.eos)
			}
			if (c.RopeScaling == nil && tc.ropeType != "") || (c.RopeScaling != nil && c.RopeScaling.RopeType != tc.ropeType) {
				t.Errorf("RopeScaling = %+v, want type %q", c.RopeScaling, tc.ropeType)
			}
			for _, k := range tc.extraKeys {
				if _, ok := c.Extra[k]; !ok {
					t.Errorf("Extra lacks %q", k)
				}
			}
			if len(c.Extra) != len(tc.extraKeys) {
				t.Errorf("Extra has %d keys, want %d", len(c.Extra), len(tc.extraKeys))
			}

			// Save → Load keeps every field, Extra included, and saves the same bytes again.
			dir := t.TempDir()
			if err := c.Save(filepath.Join(dir, ConfigFile)); err != nil {
				t.Fatal(err)
			}
			again, err := LoadModelConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(c)
			b, _ := json.Marshal(again)
			if string(a) != string(b) {
				t.Errorf("round trip changed the config:\n%s\n%s", a, b)
			}
			if c.Hash() != again.Hash() {
				t.Error("Hash changed across a round trip")
			}
			var orig, saved map[string]any
			raw, _ := os.ReadFile(filepath.Join("testdata", "configs", tc.file))
			json.Unmarshal(raw, &orig)
			out, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
			json.Unmarshal(out, &saved)
			for k, v := range orig {
				if sv, ok := saved[k]; !ok || !jsonEqual(sv, v) {
					t.Errorf("saved %s = %v, original %v", k, sv, v)
				}
			}
		})
	}
}

func equalInts(a, b TokenIDs) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestModelConfigErrors(t *testing.T) {
	base := func() map[string]any {
		raw, _ := os.ReadFile("testdata/configs/smollm2-135m.json")
		var m map[string]any
		json.Unmarshal(raw, &m)
		return m
	}
	tests := []struct {
		name  string
		edit  func(m map[string]any)
		raw   string
		field string
		want  string
		line  bool
	}{
		{name: "heads do not divide hidden", edit: func(m map[string]any) { m["num_attention_heads"] = 7 }, field: "num_attention_heads", want: "7 does not divide hidden_size 576"},
		{name: "kv heads do not divide heads", edit: func(m map[string]any) { m["num_key_value_heads"] = 4 }, field: "num_key_value_heads", want: "4 does not divide num_attention_heads 9"},
		{name: "odd head dim", edit: func(m map[string]any) { m["head_dim"] = 63 }, field: "head_dim", want: "even head dimension"},
		{name: "gelu", edit: func(m map[string]any) { m["hidden_act"] = "gelu" }, field: "hidden_act", want: "only silu"},
		{name: "yarn", edit: func(m map[string]any) { m["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4} }, field: "rope_scaling", want: `type "yarn" is not supported`},
		{name: "legacy dynamic", edit: func(m map[string]any) { m["rope_scaling"] = map[string]any{"type": "dynamic", "factor": 2} }, field: "rope_scaling", want: `type "dynamic" is not supported`},
		{name: "llama3 incomplete", edit: func(m map[string]any) { m["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8} }, field: "rope_scaling", want: "low_freq_factor"},
		{name: "qwen2", edit: func(m map[string]any) { m["architectures"] = []string{"Qwen2ForCausalLM"}; m["model_type"] = "qwen2" }, field: "architectures", want: "only LlamaForCausalLM"},
		{name: "bias", edit: func(m map[string]any) { m["attention_bias"] = true }, field: "attention_bias", want: "not supported"},
		{name: "eos out of range", edit: func(m map[string]any) { m["eos_token_id"] = []int{2, 49152} }, field: "eos_token_id", want: "49152 is outside the vocabulary"},
		{name: "zero layers", edit: func(m map[string]any) { m["num_hidden_layers"] = 0 }, field: "num_hidden_layers", want: "must be positive"},
		{name: "dtype", edit: func(m map[string]any) { m["torch_dtype"] = "float8" }, field: "torch_dtype", want: "float8"},
		{name: "wrong type", raw: "{\n  \"hidden_size\": \"576\"\n}", field: "hidden_size", want: "want an integer", line: true},
		{name: "bad eos type", raw: "{\n\n  \"eos_token_id\": \"x\"\n}", want: "want an integer or a list"},
		{name: "syntax", raw: "{\n  \"hidden_size\": 5,,\n}", want: "invalid JSON", line: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.raw)
			if tc.edit != nil {
				m := base()
				tc.edit(m)
				data, _ = json.MarshalIndent(m, "", "  ")
			}
			_, err := ParseModelConfig(data, "config.json")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %T, want *InputError", err)
			}
			if ie.File != "config.json" {
				t.Errorf("File = %q", ie.File)
			}
			if tc.field != "" && ie.Field != tc.field {
				t.Errorf("Field = %q, want %q", ie.Field, tc.field)
			}
			if tc.field != "" && tc.edit != nil && ie.Line == 0 && tc.field != "rope_scaling" {
				// the field was written by MarshalIndent, so it has a line
				t.Errorf("Line = 0 for field %q", tc.field)
			}
			if tc.line && ie.Line != 2 {
				t.Errorf("Line = %d, want 2", ie.Line)
			}
		})
	}
}

func TestRopeInvFreq(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		c := TinyConfig(263)
		inv := c.RopeInvFreq()
		if len(inv) != c.HeadDimension()/2 {
			t.Fatalf("len = %d", len(inv))
		}
		for i, f := range inv {
			want := math.Pow(10000, -float64(2*i)/float64(c.HeadDimension()))
			if math.Abs(f-want) > 1e-15 {
				t.Errorf("inv[%d] = %g, want %g", i, f, want)
			}
		}
	})
	t.Run("linear", func(t *testing.T) {
		c := TinyConfig(263)
		plain := c.RopeInvFreq()
		c.RopeScaling = &RopeScaling{RopeType: "linear", Factor: 4}
		for i, f := range c.RopeInvFreq() {
			if math.Abs(f-plain[i]/4) > 1e-15 {
				t.Errorf("inv[%d] = %g, want %g", i, f, plain[i]/4)
			}
		}
	})
	t.Run("llama3", func(t *testing.T) {
		c, err := LoadModelConfig("testdata/configs/llama31-style.json")
		if err != nil {
			t.Fatal(err)
		}
		scaled := c.RopeInvFreq()
		r := c.RopeScaling
		c.RopeScaling = nil
		plain := c.RopeInvFreq()
		low, high := 8192/r.LowFreqFactor, 8192/r.HighFreqFactor
		var nHigh, nLow, nMid int
		for i := range plain {
			wl := 2 * math.Pi / plain[i]
			switch {
			case wl < high:
				nHigh++
				if scaled[i] != plain[i] {
					t.Errorf("high-frequency inv[%d] changed: %g → %g", i, plain[i], scaled[i])
				}
			case wl > low:
				nLow++
				if math.Abs(scaled[i]-plain[i]/32) > 1e-18 {
					t.Errorf("low-frequency inv[%d] = %g, want %g", i, scaled[i], plain[i]/32)
				}
			default:
				nMid++
				if !(scaled[i] < plain[i] && scaled[i] > plain[i]/32) {
					t.Errorf("medium inv[%d] = %g not between %g and %g", i, scaled[i], plain[i]/32, plain[i])
				}
			}
		}
		if nHigh == 0 || nLow == 0 || nMid == 0 {
			t.Errorf("bands high/mid/low = %d/%d/%d: the test does not exercise all three", nHigh, nMid, nLow)
		}
	})
}

func TestPresets(t *testing.T) {
	tests := []struct {
		name     string
		min, max int64 // parameters excluding embeddings
	}{
		{"tiny", 300_000, 1_500_000},
		{"small", 2_000_000, 8_000_000},
	}
	vocab := tokenize.NewBytes().VocabSize()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := PresetConfig(tc.name, vocab)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			body := c.NumParams() - int64(c.VocabSize*c.HiddenSize)
			if body < tc.min || body > tc.max {
				t.Errorf("non-embedding params = %d, want in [%d, %d]", body, tc.min, tc.max)
			}
		})
	}
	if _, err := PresetConfig("huge", 10); err == nil || !strings.Contains(err.Error(), `"small" "tiny"`) {
		t.Errorf("unknown preset: err = %v", err)
	}
}

func TestTensorsAndLoRA(t *testing.T) {
	c := TinyConfig(263)
	c.TieWordEmbeddings = false
	specs := c.Tensors()
	if got, want := len(specs), 1+9*c.NumHiddenLayers+2; got != want {
		t.Fatalf("%d tensors, want %d", got, want)
	}
	byName := map[string][]int64{}
	for _, s := range specs {
		byName[s.Name] = s.Shape
	}
	checks := map[string][]int64{
		"model.embed_tokens.weight":                      {263, 128},
		"model.layers.0.self_attn.q_proj.weight":         {128, 128},
		"model.layers.0.self_attn.k_proj.weight":         {64, 128},
		"model.layers.3.self_attn.o_proj.weight":         {128, 128},
		"model.layers.1.mlp.down_proj.weight":            {128, 384},
		"model.layers.2.post_attention_layernorm.weight": {128},
		"lm_head.weight":                                 {263, 128},
	}
	for name, want := range checks {
		if got := byName[name]; !equal64(got, want) {
			t.Errorf("%s shape = %v, want %v", name, got, want)
		}
	}
	l := &LoRAConfig{Rank: 4, Alpha: 8, TargetModules: []string{"v_proj", "down_proj"}}
	lt := c.LoRATensors(l)
	if len(lt) != 2*c.NumHiddenLayers {
		t.Fatalf("%d LoRA tensors, want %d", len(lt), 2*c.NumHiddenLayers)
	}
	if lt[0].Module != "model.layers.0.self_attn.v_proj" || lt[0].In != 128 || lt[0].Out != 64 ||
		lt[0].A.Name != "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight" || !equal64(lt[0].A.Shape, []int64{4, 128}) ||
		!equal64(lt[0].B.Shape, []int64{64, 4}) {
		t.Errorf("first LoRA tensor = %+v", lt[0])
	}
	if lt[1].Module != "model.layers.0.mlp.down_proj" || !equal64(lt[1].A.Shape, []int64{4, 384}) {
		t.Errorf("second LoRA tensor = %+v", lt[1])
	}
	all := c.LoRATensors(&LoRAConfig{Rank: 2, Alpha: 2, TargetModules: []string{"all-linear"}})
	if len(all) != 7*c.NumHiddenLayers {
		t.Errorf("all-linear: %d tensors, want %d", len(all), 7*c.NumHiddenLayers)
	}
	if l.Scale() != 2 {
		t.Errorf("Scale = %g", l.Scale())
	}
}

func equal64(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSetTokenIDs(t *testing.T) {
	c := TinyConfig(263)
	c.SetTokenIDs(tokenize.NewBytes().Specials())
	if c.BOSTokenID == nil || *c.BOSTokenID != 256 || !equalInts(c.EOSTokenID, TokenIDs{257}) || c.PadTokenID == nil || *c.PadTokenID != 258 {
		t.Errorf("ids = %v %v %v", c.BOSTokenID, c.EOSTokenID, c.PadTokenID)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	c.SetTokenIDs(tokenize.Specials{BOS: -1, EOS: -1, Pad: -1})
	b, _ := json.Marshal(c)
	if !strings.Contains(string(b), `"bos_token_id":null`) || !strings.Contains(string(b), `"eos_token_id":null`) {
		t.Errorf("absent ids not written as null: %s", b)
	}
}

func TestErrNotBuilt(t *testing.T) {
	for _, want := range []string{"make build-torch", "-tags torch", "libtorch-env"} {
		if !strings.Contains(ErrNotBuilt.Error(), want) {
			t.Errorf("ErrNotBuilt = %q lacks %q", ErrNotBuilt, want)
		}
	}
}

func TestLoadModelConfigHints(t *testing.T) {
	dir := t.TempDir()
	gg := filepath.Join(dir, "m.gguf")
	os.WriteFile(gg, []byte("GGUF\x03\x00\x00\x00"), 0o644)
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("hello"), 0o644)
	for _, c := range []struct{ path, want string }{
		{filepath.Join(gg, ConfigFile), "m.gguf: is a GGUF model file, not a Hugging Face model directory: load it as a GGUF model (finetune --base "},
		{gg, "is a GGUF model file"},
		{filepath.Join(other, ConfigFile), "notes.txt: is a file, not a model directory"},
		{filepath.Join(dir, "missing", ConfigFile), "missing: no such model directory"},
		{filepath.Join(dir, "missing"), "missing: no such file or directory"},
	} {
		_, err := LoadModelConfig(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "not a directory") {
			t.Errorf("%s: %v, want it to say %q", c.path, err, c.want)
		}
	}
	if _, err := LoadModelConfig(filepath.Join(gg, ConfigFile)); !errors.Is(err, ErrGGUFModel) {
		t.Errorf("not ErrGGUFModel: %v", err)
	}
}
