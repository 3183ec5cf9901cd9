/* instance.c -- placeholder until written */
#include "jet_int.h"
typedef int jet_placeholder_instance;
