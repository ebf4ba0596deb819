import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// findBy*/waitFor give up after 1 s by default: too short for lazily loaded
// pages on a loaded 2-core CI machine. A real failure still fails, later.
configure({ asyncUtilTimeout: 10_000 });
