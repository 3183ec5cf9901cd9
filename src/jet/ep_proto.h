#ifndef EP_PROTO_H
#define EP_PROTO_H
#endif
