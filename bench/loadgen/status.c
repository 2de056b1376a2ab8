/* bench/loadgen/status.c — the printable names of gl_status values. */
#include "status.h"

static const char *const names[GL_ERR__COUNT] = {
    [GL_OK]           = "GL_OK",
    [GL_ERR_USAGE]    = "GL_ERR_USAGE",
    [GL_ERR_SYS]      = "GL_ERR_SYS",
    [GL_ERR_NOMEM]    = "GL_ERR_NOMEM",
    [GL_ERR_CODEC]    = "GL_ERR_CODEC",
    [GL_ERR_PROTOCOL] = "GL_ERR_PROTOCOL",
    [GL_ERR_REFUSED]  = "GL_ERR_REFUSED",
    [GL_ERR_CLOSED]   = "GL_ERR_CLOSED",
    [GL_ERR_TIMEOUT]  = "GL_ERR_TIMEOUT",
};

const char *gl_status_name(gl_status s)
{
    if ((unsigned)s >= GL_ERR__COUNT)
        return "GL_ERR_UNKNOWN";
    return names[s];
}
