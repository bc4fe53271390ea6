import { testProject } from '../../vitest.shared.ts';

export default testProject('example-custom-transport');
