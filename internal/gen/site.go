package gen

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// pageKind is a kind of page on a generated site.
type pageKind uint8

const (
	home pageKind = iota
	pricing
	products
	product
	checkout
	faq
	numKinds
)

// productCount is how many /products/<n> pages a site has.
const productCount = 40

// site holds one widget's pages, built once so that generating an event
// allocates no strings.
type site struct {
	widget string
	urls   []string // by page index: the kinds below product, then products 1..productCount
	titles []string
}

// page indices: kinds home..products and checkout, faq map to fixed
// indices; product n (1-based) is at firstProduct+n-1.
const firstProduct = int(numKinds)

func pageIndex(k pageKind, n int) int {
	if k == product {
		return firstProduct + n - 1
	}
	return int(k)
}

func kindOf(page int) pageKind {
	if page >= firstProduct {
		return product
	}
	return pageKind(page)
}

func newSite(widget string) *site {
	host := "https://" + widget + ".example"
	name := strings.ToUpper(widget[:1]) + widget[1:]
	s := &site{
		widget: widget,
		urls:   make([]string, firstProduct+productCount),
		titles: make([]string, firstProduct+productCount),
	}
	fixed := [...]struct {
		k     pageKind
		path  string
		title string
	}{
		{home, "/", "Home"},
		{pricing, "/pricing", "Pricing"},
		{products, "/products", "Products"},
		{product, "", ""}, // per product below
		{checkout, "/checkout", "Checkout"},
		{faq, "/faq", "FAQ"},
	}
	for _, f := range fixed {
		if f.k == product {
			continue
		}
		s.urls[f.k] = host + f.path
		s.titles[f.k] = f.title + " – " + name
	}
	for n := 1; n <= productCount; n++ {
		i := pageIndex(product, n)
		s.urls[i] = host + "/products/" + strconv.Itoa(n)
		s.titles[i] = "Product " + strconv.Itoa(n) + " – " + name
	}
	return s
}

// weights are relative chances of the next page's kind, by kind.
type weights [numKinds]int

var (
	landing = weights{home: 40, pricing: 20, products: 10, product: 25, faq: 5}
	next    = [numKinds]weights{
		home:     {pricing: 25, products: 40, product: 20, faq: 15},
		pricing:  {home: 25, products: 30, checkout: 20, faq: 25},
		products: {home: 10, pricing: 10, product: 80},
		product:  {pricing: 15, products: 25, product: 35, checkout: 25},
		checkout: {home: 30, pricing: 20, products: 20, faq: 30},
		faq:      {home: 30, pricing: 40, products: 30},
	}
)

func (w *weights) pick(r *rand.Rand) pageKind {
	total := 0
	for _, n := range w {
		total += n
	}
	x := r.IntN(total)
	for k, n := range w {
		if x < n {
			return pageKind(k)
		}
		x -= n
	}
	return home
}

// pickPage draws a page of the kind: one of the products, or the one page
// of any other kind. Drawing the current page again makes a reload.
func pickPage(r *rand.Rand, k pageKind) int {
	if k == product {
		return pageIndex(product, 1+r.IntN(productCount))
	}
	return pageIndex(k, 0)
}

// referrers of a session's first page: search, social, direct (empty) and
// a few others, with their relative chances.
var referrers = []struct {
	url    string
	weight int
}{
	{"https://www.google.com/", 40},
	{"https://www.facebook.com/", 15},
	{"", 30},
	{"https://www.bing.com/", 5},
	{"https://news.ycombinator.com/", 5},
	{"https://t.co/abc123", 5},
}

func pickReferrer(r *rand.Rand) string {
	x := r.IntN(100)
	for _, ref := range referrers {
		if x < ref.weight {
			return ref.url
		}
		x -= ref.weight
	}
	return ""
}

// customEvent says which custom event, if any, a visit to a page of kind k
// sends, with its chance in percent.
func customEvent(r *rand.Rand, k pageKind) string {
	x := r.IntN(100)
	switch k {
	case product:
		switch {
		case x < 30:
			return "add_to_cart"
		case x < 45:
			return "video_played"
		}
	case checkout:
		if x < 25 {
			return "payment_cancelled"
		}
	case home, pricing:
		if x < 10 {
			return "video_played"
		}
	}
	return ""
}
