//go:build torch

package torch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/safetensors"
)

// loraTargets is the set of module names an adapter covers ("all-linear" expanded), validated.
func loraTargets(l *finetune.LoRAConfig) (map[string]bool, error) {
	set := map[string]bool{}
	for _, m := range l.Targets() {
		set[m] = true
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("lora: no known target modules in %q (choose from %q or %q)", l.TargetModules, finetune.LoRATargetModules, finetune.LoRAAllLinear)
	}
	if l.Rank <= 0 {
		return nil, fmt.Errorf("lora: rank %d must be positive", l.Rank)
	}
	return set, nil
}

func moduleOf(p *proj) string { return p.name[strings.LastIndexByte(p.name, '.')+1:] }

// attachLoRA adds freshly initialised adapters as PEFT does: A ~ kaiming_uniform(a=√5), i.e.
// U(-1/√in, 1/√in), and B = 0, so the adapted model starts equal to the base. Base weights stop requiring
// gradients. Values come from a Go PRNG seeded by seed.
func (m *model) attachLoRA(cfg finetune.LoRAConfig, seed int64) error {
	targets, err := loraTargets(&cfg)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x4c6f5241))
	c := cfg
	m.lora = &c
	m.loraScale = cfg.Alpha / float64(cfg.Rank)
	for _, l := range m.layers {
		for _, p := range l.projs() {
			if !targets[moduleOf(p)] {
				continue
			}
			sh := p.w.shape()
			out, in := sh[0], sh[1]
			bound := 1 / math.Sqrt(float64(in))
			av := make([]float32, int64(cfg.Rank)*in)
			for i := range av {
				av[i] = float32((r.Float64()*2 - 1) * bound)
			}
			p.a = fromFloat32s(av, int64(cfg.Rank), in)
			p.b = zeros(kFloat32, out, int64(cfg.Rank))
			setRequiresGrad(p.a, true)
			setRequiresGrad(p.b, true)
		}
	}
	for _, t := range m.params {
		setRequiresGrad(t, false)
	}
	return nil
}

// saveAdapter writes adapter_model.safetensors (PEFT tensor names) and adapter_config.json into dir; base
// is recorded as base_model_name_or_path.
func (m *model) saveAdapter(dir, base string) error {
	if m.lora == nil {
		return fmt.Errorf("lora: model has no adapter")
	}
	if err := saveTensors(filepath.Join(dir, adapterFile), m.trainable(), map[string]string{"format": "pt"}); err != nil {
		return err
	}
	return finetune.NewAdapterConfig(base, m.lora).Save(filepath.Join(dir, adapterCfgFile))
}

// loadAdapter attaches the PEFT adapter stored in dir (adapter_config.json + adapter_model.safetensors).
func (m *model) loadAdapter(dir string) error {
	ac, err := finetune.LoadAdapterConfig(filepath.Join(dir, adapterCfgFile))
	if err != nil {
		return err
	}
	targets, err := loraTargets(ac.LoRA())
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	f, err := safetensors.Open(filepath.Join(dir, adapterFile))
	if err != nil {
		return err
	}
	defer f.Close()
	m.lora = ac.LoRA()
	m.loraScale = m.lora.Scale()
	for _, l := range m.layers {
		for _, p := range l.projs() {
			if !targets[moduleOf(p)] {
				continue
			}
			sh := p.w.shape()
			a, err := readF32(f, finetune.PEFTTensorName(p.name, "lora_A"), []int64{int64(ac.R), sh[1]})
			if err != nil {
				return fmt.Errorf("%s: %w", dir, err)
			}
			b, err := readF32(f, finetune.PEFTTensorName(p.name, "lora_B"), []int64{sh[0], int64(ac.R)})
			if err != nil {
				a.free()
				return fmt.Errorf("%s: %w", dir, err)
			}
			p.a, p.b = a, b
		}
	}
	return nil
}
