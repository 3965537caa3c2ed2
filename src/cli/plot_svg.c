// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cli/plot_svg.h"

#include <string.h>

#include "base/util.h"

#define NAME_W	 220 /* the names' column */
#define PLOT_W	 900 /* the time axis */
#define RIGHT_W	 120 /* the durations' column */
#define TOP_H	 56  /* title and axis labels */
#define ROW_H	 24
#define BAR_H	 14
#define LEGEND_H 48

struct phase {
	const char *name;  /* a timeline kind (model/timeline.h) */
	const char *label; /* in the legend */
	const char *color;
	bool starting; /* part of the spawn -> running bar (full height) */
};

/* In the order a start goes through them. */
static const struct phase phases[] = {
	{ "starting", "waiting to spawn", "#ffe0b2", true },
	{ "spawn", "spawned", "#ffb74d", true },
	{ "bound", "bound", "#fff176", true },
	{ "listening", "listening", "#dce775", true },
	{ "accepting", "accepting", "#aed581", true },
	{ "running", "running", "#c8e6c9", false },
	{ "unhealthy", "unhealthy", "#ff9800", false },
	{ "stopping", "stopping", "#bdbdbd", false },
	{ "failed", "failed", "#ef9a9a", false },
};

static const struct phase *phase_of(const char *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(phases); i++)
		if (strcmp(phases[i].name, kind) == 0)
			return &phases[i];
	return NULL;
}

/* UTF-8 length of the sequence at s, or 0 if it is not a valid one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = *s < 0x80		 ? 1
		   : (*s & 0xe0) == 0xc0 ? 2
		   : (*s & 0xf0) == 0xe0 ? 3
		   : (*s & 0xf8) == 0xf0 ? 4
					 : 0;

	if (n == 2 && *s < 0xc2)
		return 0; /* overlong */
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void plot_xml_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);
		if (*p == '&')
			fputs("&amp;", out);
		else if (*p == '<')
			fputs("&lt;", out);
		else if (*p == '>')
			fputs("&gt;", out);
		else if (*p == '"')
			fputs("&quot;", out);
		else if (*p == '\'')
			fputs("&apos;", out);
		else if (!n || (*p < 0x20 && *p != '\t'))
			fputc('?', out); /* not allowed in XML 1.0, or not UTF-8 */
		else
			fwrite(p, 1, n, out);
		p += n ? n : 1;
	}
}

struct scale {
	uint64_t start;
	double px_per_ns;
};

static double x_of(const struct scale *sc, uint64_t at)
{
	return NAME_W + (double)(at > sc->start ? at - sc->start : 0) * sc->px_per_ns;
}

/* A tick every 1, 2 or 5 x 10^k seconds: about ten over the span. */
static double tick_step(double span_s)
{
	double raw = span_s / 10, mag = 1e-3;

	while (mag * 10 <= raw)
		mag *= 10;

	if (raw <= mag)
		return mag;
	if (raw <= 2 * mag)
		return 2 * mag;
	return raw <= 5 * mag ? 5 * mag : 10 * mag;
}

static void axis(FILE *out, const struct scale *sc, double span_s, int height)
{
	double step = tick_step(span_s);

	for (int k = 0; k * step <= span_s + 1e-9 && k < 1000; k++) {
		double x = NAME_W + k * step * 1e9 * sc->px_per_ns;
		fprintf(out,
			"<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"stroke=\"#e0e0e0\"/>\n",
			x, TOP_H - 6, x, height - LEGEND_H);
		fprintf(out,
			"<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" "
			"fill=\"#616161\">%g s</text>\n",
			x, TOP_H - 10, k * step);
	}
}

static void bar(FILE *out, const struct scale *sc, const struct phase *p, uint64_t from,
		uint64_t to, int y, const char *detail)
{
	double x = x_of(sc, from), w = x_of(sc, to) - x;
	int h = p->starting ? BAR_H : BAR_H / 2;

	fprintf(out,
		"<rect class=\"phase\" data-phase=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
		"height=\"%d\" fill=\"%s\" stroke=\"%s\" stroke-width=\"0.5\"><title>",
		p->name, x, y + (BAR_H - h) / 2 + (ROW_H - BAR_H) / 2, w > 0.5 ? w : 0.5, h,
		p->color, p->starting ? "#8d6e63" : "#81c784");
	fprintf(out, "%s: %.3f s .. %.3f s", p->label, (double)(from - sc->start) / 1e9,
		(double)(to - sc->start) / 1e9);
	if (detail && *detail) {
		fputs(" (", out);
		plot_xml_escape(out, detail);
		fputc(')', out);
	}
	fputs("</title></rect>\n", out);
}

/* A restart (a spawn after the first) or a failure, with what readyd said. */
static void marker(FILE *out, const struct scale *sc, const struct boot_mark *m, int y,
		   bool failure)
{
	double x = x_of(sc, m->at);
	int cy = y + ROW_H / 2;

	if (failure)
		fprintf(out,
			"<path class=\"failure\" d=\"M%.1f %d l8 8 m0 -8 l-8 8\" "
			"stroke=\"#c62828\" "
			"stroke-width=\"2.5\" transform=\"translate(-4 -4)\"><title>failed: ",
			x, cy);
	else
		fprintf(out,
			"<circle class=\"restart\" cx=\"%.1f\" cy=\"%d\" r=\"4.5\" "
			"fill=\"#1e88e5\" "
			"stroke=\"#0d47a1\"><title>restart: ",
			x, cy);
	plot_xml_escape(out, m->detail);
	fputs(failure ? "</title></path>\n" : "</title></circle>\n", out);
}

/*
 * The phase after m, from cur: false if m changes nothing. A level colours
 * a start only (a level while running is no new phase); stopped ends the bar.
 */
static bool next_phase(const struct boot_mark *m, const struct phase *cur,
		       const struct phase **next)
{
	const struct phase *p = phase_of(m->kind);

	if (strcmp(m->kind, "stopped") == 0) {
		*next = NULL;
		return true;
	}
	if (!p)
		return false;
	if (p->starting && strcmp(m->kind, "starting") != 0 && cur && !cur->starting)
		return false;
	*next = p;
	return true;
}

static void row(FILE *out, const struct scale *sc, const struct boot *b, size_t i, int y)
{
	const struct boot_service *s = &b->svcs[i];
	const struct phase *cur = NULL;
	const char *detail = NULL;
	uint64_t since = 0;
	size_t spawns = 0;

	fputs("<g class=\"row\" data-service=\"", out);
	plot_xml_escape(out, s->name);
	fputs("\">\n", out);
	fprintf(out,
		"<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"end\" fill=\"#212121\">",
		NAME_W - 8, y + ROW_H / 2 + 4);
	plot_xml_escape(out, s->name);
	fputs("</text>\n", out);
	for (size_t k = 0; k <= s->n_marks; k++) {
		const struct boot_mark *m = k < s->n_marks ? &s->marks[k] : NULL;
		const struct phase *next = NULL;
		if (m && !next_phase(m, cur, &next))
			continue; /* closed, or a kind this readyctl does not know */
		if (m && next == cur)
			continue;
		if (cur)
			bar(out, sc, cur, since, m ? m->at : b->end, y, detail);
		cur = next;
		since = m ? m->at : 0;
		detail = m ? m->detail : NULL;
	}
	for (size_t k = 0; k < s->n_marks; k++) {
		if (strcmp(s->marks[k].kind, "spawn") == 0 && spawns++ > 0)
			marker(out, sc, &s->marks[k], y, false);
		else if (strcmp(s->marks[k].kind, "failed") == 0)
			marker(out, sc, &s->marks[k], y, true);
	}
	if (s->ran)
		fprintf(out,
			"<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#424242\">%.3f s</text>\n",
			NAME_W + PLOT_W + 8, y + ROW_H / 2 + 4,
			(double)(s->running_at - s->spawn_at) / 1e9);
	else
		fprintf(out,
			"<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#c62828\">%s</text>\n",
			NAME_W + PLOT_W + 8, y + ROW_H / 2 + 4, s->state[0] ? s->state : "?");
	fputs("</g>\n", out);
}

static void legend(FILE *out, int y)
{
	int x = NAME_W;

	for (size_t i = 0; i < ARRAY_SIZE(phases); i++) {
		fprintf(out,
			"<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\" "
			"stroke=\"#757575\" stroke-width=\"0.5\"/><text x=\"%d\" y=\"%d\" "
			"font-size=\"11\" fill=\"#424242\">%s</text>\n",
			x, y, phases[i].color, x + 16, y + 10, phases[i].label);
		x += 16 + 7 * (int)strlen(phases[i].label) + 14;
	}
	fprintf(out,
		"<circle cx=\"%d\" cy=\"%d\" r=\"4.5\" fill=\"#1e88e5\"/><text x=\"%d\" y=\"%d\" "
		"font-size=\"11\" fill=\"#424242\">restart</text>\n",
		x + 6, y + 6, x + 16, y + 10);
	x += 16 + 7 * 7 + 14;
	fprintf(out,
		"<path d=\"M%d %d l8 8 m0 -8 l-8 8\" stroke=\"#c62828\" stroke-width=\"2.5\"/>"
		"<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#424242\">failure</text>\n",
		x + 2, y + 2, x + 16, y + 10);
}

void plot_svg(FILE *out, const struct boot *b)
{
	uint64_t span = b->end > b->start ? b->end - b->start : 1000000000ULL;
	struct scale sc = { .start = b->start, .px_per_ns = PLOT_W / (double)span };
	int width = NAME_W + PLOT_W + RIGHT_W, height = TOP_H + (int)b->n * ROW_H + LEGEND_H;

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
		"<text x=\"8\" y=\"20\" font-size=\"15\" font-weight=\"bold\" fill=\"#212121\">"
		"readyd: %zu service%s, %.3f s since readyd started</text>\n",
		width, height, width, height, b->n, b->n == 1 ? "" : "s", (double)span / 1e9);
	for (size_t i = 1; i < b->n; i += 2) /* every other row shaded, under the grid */
		fprintf(out,
			"<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f5f5f5\"/>\n",
			TOP_H + (int)i * ROW_H, width, ROW_H);
	axis(out, &sc, (double)span / 1e9, height);
	for (size_t i = 0; i < b->n; i++)
		row(out, &sc, b, i, TOP_H + (int)i * ROW_H);
	legend(out, height - LEGEND_H + 18);
	fputs("</svg>\n", out);
}
