"""One entity's file (一店一档): the register's details with every record, incident and event about it."""
