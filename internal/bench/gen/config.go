package gen

import (
	"errors"
	"fmt"
)

// DefaultEntitiesPerFile is the number of entities per generated file when
// Config.EntitiesPerFile is zero.
const DefaultEntitiesPerFile = 100

// MinEntities is the smallest catalog Generate writes: the root Location, one
// group, one domain and one system.
const MinEntities = 4

// Config says what Generate writes.
type Config struct {
	// Entities is the total number of entities, the root Location included.
	// At least MinEntities.
	Entities int
	// Seed selects the catalog: the same Config always writes the same bytes.
	Seed int64
	// EntitiesPerFile is the number of entities in each generated file;
	// zero means DefaultEntitiesPerFile.
	EntitiesPerFile int
}

func (c *Config) setDefaults() {
	if c.EntitiesPerFile == 0 {
		c.EntitiesPerFile = DefaultEntitiesPerFile
	}
}

// Validate reports a Config that Generate cannot honour.
func (c Config) Validate() error {
	var errs []error
	if c.Entities < MinEntities {
		errs = append(errs, fmt.Errorf("gen: Entities is %d, want at least %d", c.Entities, MinEntities))
	}
	if c.EntitiesPerFile < 0 {
		errs = append(errs, fmt.Errorf("gen: EntitiesPerFile is %d, want 0 (default) or more", c.EntitiesPerFile))
	}
	return errors.Join(errs...)
}

// Summary describes what Generate wrote.
type Summary struct {
	// Files is the number of YAML files written, the root file included.
	Files int
	// Entities is the number of entities written; it equals Config.Entities.
	Entities int
	// ByKind counts the entities by kind as written ("Component", "API", ...);
	// the counts add up to Entities.
	ByKind map[string]int
	// RootFile is the path of the Location file whose spec.targets list every
	// other generated file by relative path. Register this one file.
	RootFile string
}
