package mongo

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults applied to zero-valued Config fields.
const (
	DefaultDatabase = "chat"
	DefaultTimeout  = 5 * time.Second
)

// Config configures Open. The zero value of every field but URI means its
// documented default.
type Config struct {
	// URI is the MongoDB connection string, "mongodb://…" or
	// "mongodb+srv://…". Required.
	URI string
	// Database is the database holding the collections; "" means "chat".
	Database string
	// Timeout bounds every single store operation (one round trip or a
	// short sequence of them); 0 means 5s.
	Timeout time.Duration
}

// Validate reports whether c can be used by Open.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.URI == "":
		errs = append(errs, errors.New("URI is required"))
	case !strings.HasPrefix(c.URI, "mongodb://") && !strings.HasPrefix(c.URI, "mongodb+srv://"):
		errs = append(errs, errors.New(`URI must start with "mongodb://" or "mongodb+srv://"`))
	}
	if err := validateDatabaseName(c.Database); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", c.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mongo: config: %w", err)
	}
	return nil
}

// validateDatabaseName applies MongoDB's naming rules (FerretDB's are a
// subset: letters, digits, '_' and '-').
func validateDatabaseName(name string) error {
	if name == "" {
		return nil // default
	}
	if len(name) > 63 {
		return fmt.Errorf("database name %q is longer than 63 bytes", name)
	}
	if i := strings.IndexAny(name, "/\\. \"$*<>:|?\x00"); i >= 0 {
		return fmt.Errorf("database name %q contains %q", name, name[i])
	}
	return nil
}

// withDefaults returns c with zero values replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}
