/* bench/loadgen/status.h — the named error values of the gnload load
 * generator, and their printable names. Pure data; any thread. */
#ifndef GL_STATUS_H
#define GL_STATUS_H

typedef enum gl_status {
    GL_OK = 0,
    GL_ERR_USAGE,        /* bad command line */
    GL_ERR_SYS,          /* a system call failed (errno kept by the caller) */
    GL_ERR_NOMEM,        /* allocation failed */
    GL_ERR_CODEC,        /* the codec refused to encode or decode one of our packets */
    GL_ERR_PROTOCOL,     /* the broker sent something that breaks the protocol */
    GL_ERR_REFUSED,      /* CONNACK or SUBACK with a failure code */
    GL_ERR_CLOSED,       /* the broker closed the connection */
    GL_ERR_TIMEOUT,      /* setup did not finish in time */
    GL_ERR__COUNT
} gl_status;

/* "GL_ERR_TIMEOUT"; never NULL. */
const char *gl_status_name(gl_status s);

#endif
