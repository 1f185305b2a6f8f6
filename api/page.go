package api

import "github.com/servicenet/servicenet/tenants"

// PageParams are the query parameters every list operation takes.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"Maximum number of items to return (1-200)."`
	Cursor string `query:"cursor" maxLength:"512" doc:"Opaque cursor: the next_cursor of the previous page."`
}

func (p PageParams) limit() int {
	if p.Limit <= 0 {
		return tenants.DefaultPageLimit
	}
	return p.Limit
}
