// Child-process peer for cross-process tests; scenarios are added with the tests that use them.
return 0;
