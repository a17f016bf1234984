package tenantfile

import _ "embed"

// demoFile is a copy of scripts/tenant/demo.yaml (go:embed cannot reach
// outside this package's directory); TestDemoFileInSync fails when the two
// differ.
//
//go:embed demo.yaml
var demoFile []byte

// Demo returns the demo tenant file (salon-sonnenschein), so the dev gateway
// can apply it without any file on disk.
func Demo() []byte { return append([]byte(nil), demoFile...) }
