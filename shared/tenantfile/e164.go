package tenantfile

import "github.com/telefonagent/gateway/shared/phone"

// validE164 accepts a number only in canonical E.164 form ("+4930123456")
// and valid for its country's numbering plan: the file is the source of
// truth for routing, so "030 123456" is a typo to fix, not a value to guess.
func validE164(s string) bool { return phone.IsE164(s) }
