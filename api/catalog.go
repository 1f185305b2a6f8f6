package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
)

// ModelIDParam is the {model_id} path parameter (exported: Huma fills only exported embedded structs).
type ModelIDParam struct {
	ModelID string `path:"model_id" maxLength:"64" doc:"Product model ID." example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pc"`
}

// PartIDParam is the {part_id} path parameter.
type PartIDParam struct {
	PartID string `path:"part_id" maxLength:"64" doc:"Part ID." example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
}

// PriceListIDParam is the {price_list_id} path parameter.
type PriceListIDParam struct {
	PriceListID string `path:"price_list_id" maxLength:"64" doc:"Price list version ID." example:"prl_01jd3zq8w6v7t3y2k9x4n5m6pe"`
}

// QuoteIDParam is the {quote_id} path parameter.
type QuoteIDParam struct {
	QuoteID string `path:"quote_id" maxLength:"64" doc:"Quote ID." example:"quo_01jd3zq8w6v7t3y2k9x4n5m6pg"`
}

type productModelOutput struct {
	ETag string `header:"ETag" doc:"The model's version; send it in If-Match to update."`
	Body catalog.ProductModel
}

type createdProductModelOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     catalog.ProductModel
}

func (o *createdProductModelOutput) answer(x catalog.ProductModel) {
	o.Location, o.ETag, o.Body = "/v1/catalog/models/"+x.ID, etag(x.Version), x
}

type listProductModelsInput struct {
	PageParams
	Category     string              `query:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Only models of this product category."`
	Discontinued OptionalParam[bool] `query:"discontinued" doc:"Only discontinued (true) or on-sale (false) models."`
	ModelNumber  string              `query:"model_number" maxLength:"64" doc:"Only the model with this model number."`
}

type productModelList struct {
	Data       []catalog.ProductModel `json:"data"`
	NextCursor string                 `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listProductModelsOutput struct{ Body productModelList }

func (o *listProductModelsOutput) answerPage(xs []catalog.ProductModel, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type updateProductModelInput struct {
	ModelIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; the update is refused (412) if the model changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    catalog.ProductModelUpdate
}

type listSimilarModelsInput struct {
	ModelIDParam
	MaxPrice int64 `query:"max_price" minimum:"0" maximum:"10000000000" doc:"Highest retail price (minor units) a candidate may have; absent or 0 for the model's own retail price."`
	Limit    int   `query:"limit" minimum:"1" maximum:"50" default:"10" doc:"Maximum number of candidates (1-50)."`
}

type similarModelsOutput struct {
	Body struct {
		Data []catalog.SimilarModel `json:"data" doc:"Candidates, best first."`
	}
}

func (o *similarModelsOutput) answerList(xs []catalog.SimilarModel) { o.Body.Data = xs }

type partOutput struct {
	ETag string `header:"ETag" doc:"The part's version; send it in If-Match to update."`
	Body catalog.Part
}

type createdPartOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     catalog.Part
}

func (o *createdPartOutput) answer(x catalog.Part) {
	o.Location, o.ETag, o.Body = "/v1/catalog/parts/"+x.ID, etag(x.Version), x
}

type listPartsInput struct {
	PageParams
	ModelID    string `query:"model_id" maxLength:"64" doc:"Only parts compatible with this product model."`
	Category   string `query:"category" maxLength:"64" doc:"Only parts of this part category (motor, compressor ...)."`
	PartNumber string `query:"part_number" maxLength:"64" doc:"Only the part with this part number."`
}

type partList struct {
	Data       []catalog.Part `json:"data"`
	NextCursor string         `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listPartsOutput struct{ Body partList }

func (o *listPartsOutput) answerPage(xs []catalog.Part, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type updatePartInput struct {
	PartIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; the update is refused (412) if the part changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    catalog.PartUpdate
}

type priceListOutput struct{ Body catalog.PriceList }

type createdPriceListOutput struct {
	Location string `header:"Location"`
	Body     catalog.PriceList
}

type priceListList struct {
	Data       []catalog.PriceList `json:"data"`
	NextCursor string              `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listPriceListsOutput struct{ Body priceListList }

func (o *listPriceListsOutput) answerPage(xs []catalog.PriceList, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type effectivePriceListInput struct {
	On string `query:"on" format:"date" doc:"The date (YYYY-MM-DD); default today in the tenant's time zone."`
}

type quoteOutput struct{ Body catalog.Quote }

type createdQuoteOutput struct {
	Location string `header:"Location"`
	Body     catalog.Quote
}

func (s *Server) registerCatalog() {
	tags := []string{"Catalog"}

	register(s, authz.CatalogWrite, huma.Operation{
		OperationID: "createProductModel", Method: http.MethodPost, Path: "/v1/catalog/models",
		Summary: "Add a product model", Tags: tags,
		Description: "Adds a model the brand sells: model number (unique per tenant, 409), category, current retail " +
			"price (retail_price, in the tenant's currency), whole-unit warranty months, longer key-part terms by part " +
			"category, and the specification attributes a similar replacement should match.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 32 << 10,
	}, func(ctx context.Context, in *struct{ Body catalog.NewProductModel }) (*createdProductModelOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdProductModelOutput](s.deps.Catalog.CreateProductModel(ctx, p, in.Body))
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "listProductModels", Method: http.MethodGet, Path: "/v1/catalog/models",
		Summary: "List product models", Tags: tags,
		Description: "Product models, oldest first, filtered by category, discontinued flag or model number.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listProductModelsInput) (*listProductModelsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		f := catalog.ProductModelFilter{Category: in.Category, ModelNumber: in.ModelNumber, Limit: in.limit(), Cursor: in.Cursor}
		f.Discontinued = in.Discontinued.Ptr()
		return replyPage[listProductModelsOutput](s.deps.Catalog.ListProductModels(ctx, p, f))
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "getProductModel", Method: http.MethodGet, Path: "/v1/catalog/models/{model_id}",
		Summary: "Get a product model", Tags: tags,
		Description: "A product model with its retail price (retail_price), warranty terms and specification attributes.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *ModelIDParam) (*productModelOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		m, err := s.deps.Catalog.GetProductModel(ctx, p, in.ModelID)
		if err != nil {
			return nil, err
		}
		return &productModelOutput{ETag: etag(m.Version), Body: m}, nil
	})

	register(s, authz.CatalogWrite, huma.Operation{
		OperationID: "updateProductModel", Method: http.MethodPatch, Path: "/v1/catalog/models/{model_id}",
		Summary: "Update a product model", Tags: tags,
		Description: "Changes a model's attributes, e.g. a new retail price (retail_price) or discontinued; absent fields " +
			"stay, key_parts and specs are replaced whole. Quotes already made keep their amounts. Send the ETag of " +
			"your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 32 << 10,
	}, func(ctx context.Context, in *updateProductModelInput) (*productModelOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		m, err := s.deps.Catalog.UpdateProductModel(ctx, p, in.ModelID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &productModelOutput{ETag: etag(m.Version), Body: m}, nil
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "listSimilarModels", Method: http.MethodGet, Path: "/v1/catalog/models/{model_id}/similar",
		Summary: "List models similar to a model", Tags: tags,
		Description: "The models a swap may give instead of this one (typically discontinued): of the same category, " +
			"on sale, priced no higher than its retail price (or max_price), and sharing at least one of its " +
			"specification attributes when it has any. Best first: most matching attributes, then highest price.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listSimilarModelsInput) (*similarModelsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		var maxPrice *int64
		if in.MaxPrice > 0 {
			maxPrice = &in.MaxPrice
		}
		return replyList[similarModelsOutput](s.deps.Catalog.ListSimilarModels(ctx, p, in.ModelID, maxPrice, in.Limit))
	})

	register(s, authz.CatalogWrite, huma.Operation{
		OperationID: "createPart", Method: http.MethodPost, Path: "/v1/catalog/parts",
		Summary: "Add a part", Tags: tags,
		Description: "Adds a spare part: part number (unique per tenant, 409), category (key-part warranty terms are " +
			"keyed by it), catalog price in the tenant's currency, and the product models it fits (each must exist: " +
			"422 naming body.compatible_model_ids[i]).",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 64 << 10,
	}, func(ctx context.Context, in *struct{ Body catalog.NewPart }) (*createdPartOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdPartOutput](s.deps.Catalog.CreatePart(ctx, p, in.Body))
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "listParts", Method: http.MethodGet, Path: "/v1/catalog/parts",
		Summary: "List parts", Tags: tags,
		Description: "Parts, oldest first, filtered by a compatible model, part category or part number.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listPartsInput) (*listPartsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listPartsOutput](s.deps.Catalog.ListParts(ctx, p, catalog.PartFilter{ModelID: in.ModelID, Category: in.Category,
			PartNumber: in.PartNumber, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "getPart", Method: http.MethodGet, Path: "/v1/catalog/parts/{part_id}",
		Summary: "Get a part", Tags: tags,
		Description: "A part with its catalog price and compatible models.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *PartIDParam) (*partOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		pt, err := s.deps.Catalog.GetPart(ctx, p, in.PartID)
		if err != nil {
			return nil, err
		}
		return &partOutput{ETag: etag(pt.Version), Body: pt}, nil
	})

	register(s, authz.CatalogWrite, huma.Operation{
		OperationID: "updatePart", Method: http.MethodPatch, Path: "/v1/catalog/parts/{part_id}",
		Summary: "Update a part", Tags: tags,
		Description: "Changes a part's attributes; absent fields stay and compatible_model_ids is replaced whole. A " +
			"new catalog price applies to quotes made afterwards (unless the price list in effect overrides it). " +
			"Send the ETag of your last read in If-Match.",
		Errors:       []int{http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		MaxBodyBytes: 64 << 10,
	}, func(ctx context.Context, in *updatePartInput) (*partOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		v, err := ifVersion(in.IfMatch)
		if err != nil {
			return nil, err
		}
		pt, err := s.deps.Catalog.UpdatePart(ctx, p, in.PartID, in.Body, v)
		if err != nil {
			return nil, err
		}
		return &partOutput{ETag: etag(pt.Version), Body: pt}, nil
	})

	register(s, authz.CatalogWrite, huma.Operation{
		OperationID: "createPriceList", Method: http.MethodPost, Path: "/v1/catalog/price-lists",
		Summary: "Create a price list version", Tags: tags,
		Description: "Stores the next price list version (numbered 1, 2, 3 per tenant): labor by category and service " +
			"kind, visit fees by category with an optional default (default_visit_fee), and part prices overriding " +
			"the parts' catalog prices, all in the tenant's currency. It takes effect on effective_from (today or " +
			"later in the tenant's time zone; one version per date, 409) and stays in effect until the next " +
			"version's date. Versions are immutable: quotes keep the version they were priced with.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 1 << 20,
	}, func(ctx context.Context, in *struct{ Body catalog.NewPriceList }) (*createdPriceListOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		pl, err := s.deps.Catalog.CreatePriceList(ctx, p, in.Body)
		if err != nil {
			return nil, err
		}
		return &createdPriceListOutput{Location: "/v1/catalog/price-lists/" + pl.ID, Body: pl}, nil
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "listPriceLists", Method: http.MethodGet, Path: "/v1/catalog/price-lists",
		Summary: "List price list versions", Tags: tags,
		Description: "Price list versions by version number, each with its status on the tenant's current date " +
			"(scheduled, current or superseded).",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *PageParams) (*listPriceListsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listPriceListsOutput](s.deps.Catalog.ListPriceLists(ctx, p, in.limit(), in.Cursor))
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "getEffectivePriceList", Method: http.MethodGet, Path: "/v1/catalog/price-lists/effective",
		Summary: "Get the price list version in effect on a date", Tags: tags,
		Description: "The version with the greatest effective_from on or before the date (default today in the " +
			"tenant's time zone); 404 when no version is in effect on it.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *effectivePriceListInput) (*priceListOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		pl, err := s.deps.Catalog.GetEffectivePriceList(ctx, p, in.On)
		if err != nil {
			return nil, err
		}
		return &priceListOutput{Body: pl}, nil
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "getPriceList", Method: http.MethodGet, Path: "/v1/catalog/price-lists/{price_list_id}",
		Summary: "Get a price list version", Tags: tags,
		Description: "A price list version with its labor rates, visit fees and part prices.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *PriceListIDParam) (*priceListOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		pl, err := s.deps.Catalog.GetPriceList(ctx, p, in.PriceListID)
		if err != nil {
			return nil, err
		}
		return &priceListOutput{Body: pl}, nil
	})

	register(s, authz.QuotesCreate, huma.Operation{
		OperationID: "createQuote", Method: http.MethodPost, Path: "/v1/catalog/quotes",
		Summary: "Price a job", Tags: tags,
		Description: "Prices a job on a product model with the price list version in effect on the date `on` " +
			"(default today): the labor of the model's category and the service kind, the visit fee if asked, and " +
			"each part (each must fit the model) at the version's price or else its catalog price. The quote keeps " +
			"the version and its lines: re-reading it later never reprices it. A job the version does not price is " +
			"422 naming the field.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 16 << 10,
	}, func(ctx context.Context, in *struct{ Body catalog.NewQuote }) (*createdQuoteOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		q, err := s.deps.Catalog.CreateQuote(ctx, p, in.Body)
		if err != nil {
			return nil, err
		}
		return &createdQuoteOutput{Location: "/v1/catalog/quotes/" + q.ID, Body: q}, nil
	})

	register(s, authz.CatalogRead, huma.Operation{
		OperationID: "getQuote", Method: http.MethodGet, Path: "/v1/catalog/quotes/{quote_id}",
		Summary: "Get a quote", Tags: tags,
		Description: "A quote as it was priced, with its price list version, lines (each with its amount) and total.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *QuoteIDParam) (*quoteOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		q, err := s.deps.Catalog.GetQuote(ctx, p, in.QuoteID)
		if err != nil {
			return nil, err
		}
		return &quoteOutput{Body: q}, nil
	})
}
