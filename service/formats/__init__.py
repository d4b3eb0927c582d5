"""Reading what departments send, independent of any one department.

``files`` turns a CSV (UTF-8 or GBK) or XLSX export into numbered rows and writes safe CSV;
``fields`` reads named fields of one row or JSON object with converters that collect every
problem; ``json_body`` is the JSON guard every JSON body passes (its refusals are ``errors``).
The feeds' adapters and the register's rows build on these; nothing here imports another
package of the service except ``kit``, ``errors`` and ``matching.geo`` (the China box).
"""
