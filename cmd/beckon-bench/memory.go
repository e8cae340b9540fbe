package main

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/schemas"
)

// runMemory is the heap kept per live visitor: HeapAlloc after a GC, before
// and after one page_view for each of MemVisitors visitors. Each event's
// visitor id is a fresh string, as one decoded from a message is, so the
// id the engine keeps is counted.
func runMemory(_ context.Context, b *bench) ([]row, error) {
	widgets := []string{"shop", "docs", "saas"}
	urls := make([]string, len(widgets))
	for i, w := range widgets {
		urls[i] = "https://" + w + ".example/products/7"
	}
	eng := processor.New(b.rules)
	before := heapAlloc()
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixMilli()
	var out []schemas.Invitation
	var idBuf []byte
	for i := range b.MemVisitors {
		idBuf = strconv.AppendUint(append(idBuf[:0], 'v'), uint64(i)*0x9e3779b97f4a7c15, 36)
		ev := schemas.Event{Type: schemas.PageView, WidgetID: widgets[i%3], VisitorID: string(idBuf),
			TS: t0 + int64(i/100), URL: urls[i%3], Title: "Product 7"}
		out = eng.Apply(&ev, out[:0])
	}
	after := heapAlloc()
	if eng.Visitors() != b.MemVisitors {
		return nil, fmt.Errorf("engine keeps %d visitors, want %d", eng.Visitors(), b.MemVisitors)
	}
	per := float64(after-before) / float64(b.MemVisitors)
	runtime.KeepAlive(eng)
	return []row{{Stage: "memory", Metric: fmt.Sprintf("heap B/visitor (%d visitors)", b.MemVisitors),
		Value: fmt.Sprintf("%.0f", per), Baseline: fmt.Sprintf("visitor id string: %d B", len(idBuf)),
		Target: "≤ 300 B", Status: status(per <= 300)}}, nil
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
