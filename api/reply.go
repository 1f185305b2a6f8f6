package api

import "net/http"

// A versioned output answers one stored object with its ETag. Its answer
// method fills both, so that every operation answering the object writes
// reply[xOutput](service call) instead of its own wrapper.
type versionedOutput[T any] interface{ answer(T) }

// reply answers x as an O (an output with an answer method), or passes on
// err: return reply[nodeOutput](s.deps.Network.GetNode(ctx, p, id)).
func reply[O any, T any, PO interface {
	*O
	versionedOutput[T]
}](x T, err error) (*O, error) {
	if err != nil {
		return nil, err
	}
	out := PO(new(O))
	out.answer(x)
	return (*O)(out), nil
}

// A page output answers one page of a list and the cursor of the next.
type pageOutput[T any] interface{ answerPage(items []T, next string) }

// replyPage answers a service's page as an O (an output with an answerPage
// method), or passes on err: return replyPage[subtreeOutput](s.deps.Network.Subtree(...)).
func replyPage[O any, T any, PO interface {
	*O
	pageOutput[T]
}](items []T, next string, err error) (*O, error) {
	if err != nil {
		return nil, err
	}
	out := PO(new(O))
	out.answerPage(items, next)
	return (*O)(out), nil
}

// mapped is xs converted one by one with f: never nil, so that an empty
// page answers [] (for the outputs whose items are API types of their own).
func mapped[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// optional is an optional request body's value: the zero value when the
// request has none, so that its fields read as absent.
func optional[T any](body *T) T {
	if body == nil {
		var zero T
		return zero
	}
	return *body
}

// createdStatus is the status of a create that may find the object exists
// already: 201 when created, 200 when answered unchanged.
func createdStatus(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

// A list output answers a whole list (one that is not paged).
type listOutput[T any] interface{ answerList(items []T) }

// replyList answers a service's list as an O (an output with an answerList
// method), or passes on err: return replyList[claimVersionsOutput](s.deps.Claims.ListVersions(...)).
func replyList[O any, T any, PO interface {
	*O
	listOutput[T]
}](items []T, err error) (*O, error) {
	if err != nil {
		return nil, err
	}
	out := PO(new(O))
	out.answerList(items)
	return (*O)(out), nil
}
