// Package platform is what every Lambda needs around its handler and nothing
// of the domain: typed configuration, secrets, a JSON logger that redacts
// personal data by itself, CloudWatch EMF metrics, tracing behind a small
// interface, and feature flags. It imports no database or cache client so
// that functions which do not need them stay small.
package platform
