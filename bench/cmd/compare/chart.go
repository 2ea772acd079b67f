package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Colours of the servers in the chart; gorpcx stands out.
var colours = map[string]string{
	rawName:             "#8c8c8c",
	gorpcxName:          "#d62728",
	freeBytesName:       "#f7b6d2",
	"gorpcx-func":       "#ff9896",
	"sourcegraph":       "#1f77b4",
	"sourcegraph-async": "#9ecae1",
	"jrpc2":             "#2ca02c",
	aiorpcxName:         "#9467bd",
}

// Layout of the chart, in pixels.
const (
	chartW     = 960
	marginL    = 78
	marginR    = 20
	legendH    = 40
	panelTitle = 28
	loadH      = 330
	memH       = 230
	axisH      = 36
)

// bar is one bar of a group.
type bar struct {
	server string
	value  float64
	ok     bool
}

// chart renders the SVG: requests per second by setting and server on a
// logarithmic scale, and idle memory per session on a linear one.
func (r *report) chart() string {
	var b strings.Builder
	loads, idles := r.loadSettings(), r.idleSettings()
	height := legendH
	if len(loads) > 0 {
		height += panelTitle + loadH + axisH
	}
	if len(idles) > 0 {
		height += panelTitle + memH + axisH
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartW, height, chartW, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, height)
	r.legend(&b)
	y := legendH
	if len(loads) > 0 {
		groups := make([]string, len(loads))
		bars := make([][]bar, len(loads))
		for i, st := range loads {
			groups[i] = st.name
			if st.pinned {
				groups[i] += " (pinned)"
			}
			if st.batch > 0 {
				groups[i] += " items/s"
			}
			for _, s := range r.h.servers {
				if (len(s.only) > 0 || st.tls) && !s.runs(st) {
					continue // not a gap: it does not run here
				}
				c, ok := r.get(s.name, st.name)
				v := 0.0
				if ok {
					v = throughput(c, st)
				}
				bars[i] = append(bars[i], bar{server: s.name, value: v, ok: ok && v > 0})
			}
		}
		title := fmt.Sprintf("Requests per second (median of %d, logarithmic scale; higher is better)", r.h.reps)
		panel(&b, y, loadH, title, groups, bars, true, 0, "")
		y += panelTitle + loadH + axisH
	}
	if len(idles) > 0 {
		groups := make([]string, len(idles))
		bars := make([][]bar, len(idles))
		for i, st := range idles {
			groups[i] = fmtCount(float64(st.idle)) + " idle sessions"
			if st.tls {
				groups[i] = fmtCount(float64(st.idle)) + " idle TLS sessions"
			}
			for _, s := range r.h.servers {
				if (len(s.only) > 0 || st.tls) && !s.runs(st) {
					continue
				}
				c, ok := r.get(s.name, st.name)
				v := 0.0
				if ok {
					v = c.kib
				}
				bars[i] = append(bars[i], bar{server: s.name, value: v, ok: ok})
			}
		}
		panel(&b, y, memH, "Server memory per idle session, KiB (lower is better)", groups, bars, false, idleGoalKiB, fmt.Sprintf("goal for gorpcx: at most %g KiB", idleGoalKiB))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// legend draws a swatch and the name of each server in a row.
func (r *report) legend(b *strings.Builder) {
	x := marginL
	for _, s := range r.h.servers {
		fmt.Fprintf(b, `<rect x="%d" y="14" width="14" height="14" fill="%s"/>`, x, colour(s.name))
		fmt.Fprintf(b, `<text x="%d" y="26">%s</text>`+"\n", x+19, html.EscapeString(s.name))
		x += 26 + 8*len(s.name)
	}
}

func colour(server string) string {
	if c, ok := colours[server]; ok {
		return c
	}
	return "#444444"
}

// panel draws one bar chart with its title at top y: groups of bars on
// a log10 scale (log) or a linear one from 0, with an optional dashed
// reference line at ref.
func panel(b *strings.Builder, top, h int, title string, groups []string, bars [][]bar, log bool, ref float64, refLabel string) {
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="14"><tspan font-weight="bold">%s</tspan>`, marginL, top+18, html.EscapeString(title))
	if refLabel != "" {
		fmt.Fprintf(b, `<tspan dx="14" fill="%s" font-size="12">(dashed line: %s)</tspan>`, colour(gorpcxName), html.EscapeString(refLabel))
	}
	b.WriteString("</text>\n")
	y0 := top + panelTitle // top of the plot area
	plotW := chartW - marginL - marginR

	lo, hi := math.Inf(1), 0.0
	for _, g := range bars {
		for _, br := range g {
			if br.ok {
				lo, hi = math.Min(lo, br.value), math.Max(hi, br.value)
			}
		}
	}
	hi = math.Max(hi, ref)
	if hi == 0 {
		hi = 1
	}
	var scale func(float64) float64 // value → pixels above the axis
	var ticks []float64
	if log {
		if math.IsInf(lo, 1) {
			lo = 1
		}
		dLo, dHi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if dHi == dLo {
			dHi++
		}
		scale = func(v float64) float64 {
			return (math.Log10(math.Max(v, math.Pow(10, dLo))) - dLo) / (dHi - dLo) * float64(h)
		}
		for d := dLo; d <= dHi; d++ {
			ticks = append(ticks, math.Pow(10, d))
		}
	} else {
		step := niceStep(hi * 1.15 / 5)
		top := math.Ceil(hi*1.15/step) * step
		scale = func(v float64) float64 { return v / top * float64(h) }
		for t := 0.0; t <= top+step/2; t += step {
			ticks = append(ticks, t)
		}
	}
	axisY := y0 + h
	for _, t := range ticks {
		ty := float64(axisY) - scale(t)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>`, marginL, ty, marginL+plotW, ty)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginL-6, ty+4, tickLabel(t))
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", marginL, axisY, marginL+plotW, axisY)
	if ref > 0 { // under the bars; its label goes after the title
		ry := float64(axisY) - scale(ref)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-dasharray="6,4"/>`+"\n", marginL, ry, marginL+plotW, ry, colour(gorpcxName))
	}

	groupW := float64(plotW) / float64(len(groups))
	for gi, g := range groups {
		gx := float64(marginL) + groupW*float64(gi)
		n := len(bars[gi])
		barW := groupW * 0.84 / float64(max(n, 1))
		x := gx + groupW*0.08
		for _, br := range bars[gi] {
			if br.ok {
				bh := scale(br.value)
				fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
					x, float64(axisY)-bh, barW-1, bh, colour(br.server), html.EscapeString(br.server), html.EscapeString(g), shortNumber(br.value))
				// The value, written upwards from just above the bar.
				fmt.Fprintf(b, `<text transform="translate(%.1f,%.1f) rotate(-90)" font-size="10">%s</text>`+"\n",
					x+barW/2+3, float64(axisY)-bh-3, shortNumber(br.value))
			} else {
				fmt.Fprintf(b, `<text transform="translate(%.1f,%d) rotate(-90)" font-size="10" fill="#999999">n/a</text>`+"\n", x+barW/2+3, axisY-3)
			}
			x += barW
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="13">%s</text>`+"\n", gx+groupW/2, axisY+20, html.EscapeString(g))
	}
}

// tickLabel formats an axis value: 0, 5, 2.5, 10k, 1M.
func tickLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// shortNumber formats v compactly: 950, 35.8k, 1.10M; fractions keep
// one decimal.
func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}
