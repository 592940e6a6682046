package ports

import (
	"context"

	"github.com/devicegate/devicegate/domain"
)

// License answers the edition and license status (SPEC 7.2).
type License interface {
	// License returns the current edition and status. An adapter that cannot
	// tell returns an error; callers treat it as "not licensed".
	License(ctx context.Context) (domain.License, error)
}
