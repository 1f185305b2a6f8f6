package statemachine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/statemachine"
)

type door struct {
	ID      string
	State   string
	Version int
}

var errClosed = errors.New("not from closed")

var doors = statemachine.Machine[door, string]{
	Noun: "ticket",
	Load: func(_ context.Context, _ pg.TenantTx, _ tenants.Principal, id string) (door, error) {
		if id != "d1" {
			return door{}, tenants.NotFound("ticket")
		}
		return door{ID: id, State: "closed", Version: 3}, nil
	},
	Version: func(d door) int { return d.Version },
	Check: func(d door, action string) error {
		if d.State == "closed" && action != "open" {
			return errClosed
		}
		return nil
	},
}

func TestLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lock := func(id string, ifVersion int, action string) (door, error) {
		return doors.Lock(ctx, pg.TenantTx{}, tenants.Principal{TenantID: "t"}, id, ifVersion, action)
	}
	t.Run("AdmittedActionReturnsTheObject", func(t *testing.T) {
		d, err := lock("d1", 3, "open")
		require.NoError(t, err)
		require.Equal(t, door{ID: "d1", State: "closed", Version: 3}, d)
	})
	t.Run("NoIfMatchSkipsTheVersion", func(t *testing.T) {
		_, err := lock("d1", 0, "open")
		require.NoError(t, err)
	})
	t.Run("NotFoundFirst", func(t *testing.T) {
		_, err := lock("d2", 9, "close")
		var te *tenants.Error
		require.ErrorAs(t, err, &te)
		require.Equal(t, tenants.CodeNotFound, te.Code)
	})
	t.Run("StaleIfMatchBeforeTheState", func(t *testing.T) {
		_, err := lock("d1", 2, "close")
		var te *tenants.Error
		require.ErrorAs(t, err, &te)
		require.Equal(t, tenants.CodePreconditionFailed, te.Code)
	})
	t.Run("StateRefusesTheAction", func(t *testing.T) {
		d, err := lock("d1", 3, "close")
		require.ErrorIs(t, err, errClosed)
		require.Zero(t, d)
	})
}
