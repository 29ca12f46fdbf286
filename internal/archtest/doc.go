// Package archtest holds no code: its tests enforce drover's package rules
// (which internal package may import which, no init functions, no cgo).
package archtest
