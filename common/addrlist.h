/* addrlist.h: address header fields parsed, broken ones too. See addrlist.c. */
#ifndef INTAKE_ADDRLIST_H
#define INTAKE_ADDRLIST_H

#include <gmime/gmime.h>

InternetAddressList *addrlist_parse(GMimeParserOptions *opts, const char *value);

#endif
