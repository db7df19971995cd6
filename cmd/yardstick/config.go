package main

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/viper"

	"github.com/yardstick-eval/yardstick/providers/pricing"
	"github.com/yardstick-eval/yardstick/providers/registry"
)

// appConfig is yardstick.yaml: provider definitions and defaults for runs.
// Suite files are not app config; package suites parses them strictly.
type appConfig struct {
	// Providers are named targets usable with -m NAME.
	Providers []registry.Config `mapstructure:"providers"`
	// Prices extend or override the built-in price table: provider → model → price.
	Prices pricing.Table `mapstructure:"prices"`
	Cache  struct {
		Dir      string `mapstructure:"dir"`      // default: the user cache dir
		Disabled bool   `mapstructure:"disabled"` // no response cache at all
	} `mapstructure:"cache"`
	Run struct {
		Concurrency int    `mapstructure:"concurrency"`
		Out         string `mapstructure:"out"` // parent folder of run directories
	} `mapstructure:"run"`
}

// loadConfig reads the app config: --config FILE, or ./yardstick.yaml when
// present, then YARDSTICK_* environment variables (YARDSTICK_RUN_CONCURRENCY,
// YARDSTICK_CACHE_DIR, …). Unknown keys are a configuration error.
func (a *app) loadConfig() error {
	v := viper.New()
	v.SetEnvPrefix("YARDSTICK")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	// Bind the scalar keys so environment variables reach Unmarshal.
	for _, k := range []string{"cache.dir", "cache.disabled", "run.concurrency", "run.out"} {
		env := "YARDSTICK_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(k))
		if val := a.getenv(env); val != "" {
			if err := checkEnvValue(k, val); err != nil {
				return usageErrf("%s=%q: %v", env, val, err)
			}
			v.Set(k, val)
		}
	}
	file := a.cfgFile
	if file == "" {
		if f := a.getenv("YARDSTICK_CONFIG"); f != "" {
			file = f
		} else if _, err := os.Stat("yardstick.yaml"); err == nil {
			file = "yardstick.yaml"
		}
	}
	if file != "" {
		v.SetConfigFile(file)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			var nf viper.ConfigFileNotFoundError
			if errors.As(err, &nf) || os.IsNotExist(err) {
				return usageErrf("app config %s: not found", file)
			}
			return usageErrf("app config %s: %v", file, err)
		}
	}
	var cfg appConfig
	if err := v.UnmarshalExact(&cfg); err != nil {
		return usageErrf("app config %s: %v", orDefault(file, "(environment)"), err)
	}
	for i, p := range cfg.Providers {
		if p.Type == "" || p.Model == "" {
			return usageErrf("app config %s: providers[%d] (%q): type and model are required", file, i, p.Name)
		}
	}
	a.conf = cfg
	return nil
}

// checkEnvValue checks the type of an environment override here, so a bad one
// is reported under its variable's name rather than as the config file's.
func checkEnvValue(key, val string) error {
	switch key {
	case "cache.disabled":
		if _, err := strconv.ParseBool(val); err != nil {
			return errors.New("want true or false")
		}
	case "run.concurrency":
		if _, err := strconv.Atoi(val); err != nil {
			return errors.New("want an integer")
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// prices returns the app config's price entries only; the registry
// (registry.Options.Prices) and estimateTargets merge them over the built-in
// table (pricing.Default).
func (a *app) prices() pricing.Table {
	return a.conf.Prices
}
