package privacy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/privacy"
)

func ptr[T any](v T) *T { return &v }

// TestUpdateWithTheCurrentValuesChangesNothing: the privacy policy is
// changed as the other policy documents are (the version read must be the
// current one), and a PATCH sending the values it has changes nothing: the
// version (the ETag) and updated_at stay and no privacy_policy.updated event
// is appended. Failed before: every update bumped the version (2 after 1).
func TestUpdateWithTheCurrentValuesChangesNothing(t *testing.T) {
	e := domaintest.New(t)
	events := func() int {
		return e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = $2`, privacy.TypePolicyUpdated)
	}

	pol, err := e.Privacy.Get(e.Ctx, e.Admin)
	require.NoError(t, err)
	require.Equal(t, 0, pol.Version, "defaults: version 0")

	// Without a policy, sending the defaults is no change either.
	got, err := e.Privacy.Update(e.Ctx, e.Admin, privacy.PolicyUpdate{GraceHours: ptr(privacy.DefaultGraceHours), RetentionDays: ptr(0)}, 0)
	require.NoError(t, err)
	require.Equal(t, 0, got.Version)
	require.Zero(t, events())

	first, err := e.Privacy.Update(e.Ctx, e.Admin, privacy.PolicyUpdate{GraceHours: ptr(48), RetentionDays: ptr(365)}, 0)
	require.NoError(t, err)
	require.Equal(t, 1, first.Version)
	require.Equal(t, 1, events())

	for name, u := range map[string]privacy.PolicyUpdate{
		"Both":      {GraceHours: ptr(48), RetentionDays: ptr(365)},
		"Retention": {RetentionDays: ptr(365)},
		"Grace":     {GraceHours: ptr(48)},
		"Nothing":   {},
	} {
		got, err := e.Privacy.Update(e.Ctx, e.Admin, u, 1)
		require.NoError(t, err, name)
		require.Equal(t, first, got, "%s: the policy as it was, version 1", name)
	}
	require.Equal(t, 1, events(), "no event for no change")

	// A stale version is refused, changing nothing.
	_, err = e.Privacy.Update(e.Ctx, e.Admin, privacy.PolicyUpdate{RetentionDays: ptr(30)}, 0)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, tenants.CodePreconditionFailed, te.Code)

	// Turning retention off is a change; sending 0 again is not.
	off, err := e.Privacy.Update(e.Ctx, e.Admin, privacy.PolicyUpdate{GraceHours: ptr(48), RetentionDays: ptr(0)}, 1)
	require.NoError(t, err)
	require.Equal(t, 2, off.Version)
	require.Nil(t, off.RetentionDays)
	again, err := e.Privacy.Update(e.Ctx, e.Admin, privacy.PolicyUpdate{RetentionDays: ptr(0)}, 2)
	require.NoError(t, err)
	require.Equal(t, off, again)
	require.Equal(t, 2, events())

	// Bad input is refused before anything else.
	_, err = e.Privacy.Update(e.Ctx, e.Admin, privacy.PolicyUpdate{GraceHours: ptr(-1), RetentionDays: ptr(36501)}, 2)
	require.Equal(t, []string{"grace_hours", "retention_days"}, domaintest.Fields(t, err))
}
