package providers

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	InputPerM       float64 `json:"input_per_m" mapstructure:"input_per_m" yaml:"input_per_m"`
	CachedInputPerM float64 `json:"cached_input_per_m,omitempty" mapstructure:"cached_input_per_m" yaml:"cached_input_per_m"` // 0: same as InputPerM
	OutputPerM      float64 `json:"output_per_m" mapstructure:"output_per_m" yaml:"output_per_m"`
}

// Cost returns the cost of u in US dollars.
func (p Price) Cost(u Usage) float64 {
	cachedRate := p.CachedInputPerM
	if cachedRate == 0 {
		cachedRate = p.InputPerM
	}
	uncached := u.InputTokens - u.CachedInputTokens
	if uncached < 0 {
		uncached = 0
	}
	return (float64(uncached)*p.InputPerM + float64(u.CachedInputTokens)*cachedRate + float64(u.OutputTokens)*p.OutputPerM) / 1e6
}
