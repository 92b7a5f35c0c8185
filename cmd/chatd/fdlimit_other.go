//go:build !unix

package main

// openFileLimit: no open-file limit to read here (connectionBudget's
// default applies).
func openFileLimit() int { return 0 }
