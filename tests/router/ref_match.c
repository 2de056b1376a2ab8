/* tests/router/ref_match.c — naive reference matcher (see ref_match.h). */
#include "ref_match.h"

#include <string.h>

/* Next level of s[*pos..len): sets *lvl and *lvl_len, advances *pos past the
 * '/', returns false when there is no level left (*pos > len). */
static bool next_level(const char *s, size_t len, size_t *pos, const char **lvl, size_t *lvl_len)
{
    if (*pos > len)
        return false;
    size_t e = *pos;
    while (e < len && s[e] != '/')
        e++;
    *lvl = s + *pos;
    *lvl_len = e - *pos;
    *pos = e + 1;
    return true;
}

bool ref_match(const char *topic, size_t tlen, const char *filter, size_t flen)
{
    if (tlen > 0 && topic[0] == '$' && flen > 0 && (filter[0] == '+' || filter[0] == '#'))
        return false;
    size_t tp = 0, fp = 0;
    for (;;) {
        const char *fl, *tl;
        size_t fll, tll;
        bool fhas = next_level(filter, flen, &fp, &fl, &fll);
        if (fhas && fll == 1 && fl[0] == '#')
            return true;
        bool thas = next_level(topic, tlen, &tp, &tl, &tll);
        if (!fhas || !thas)
            return fhas == thas;
        if (fll == 1 && fl[0] == '+')
            continue;
        if (fll != tll || memcmp(fl, tl, fll) != 0)
            return false;
    }
}
