// Package web holds the React SPA (Vite + TypeScript) and embeds its build
// output, dist/, into the chatd binary. `make web` builds it; `make run`
// builds it when missing.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built SPA, or nil when it was not built (dist/ holds only
// its placeholder), so the server can say so instead of serving nothing.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil
	}
	return sub
}
